import { CELL_BODY_LENGTH, KEY_LENGTH, OnionWireError } from './cell.js'
import {
  decodeAck,
  decodeDeposit,
  decodeFetch,
  decodeItem,
  decodeResult,
  encodeAck,
  encodeDeposit,
  encodeFetch,
  encodeItem,
  encodeResult,
  type MailboxAck,
  type MailboxDeposit,
  type MailboxFetch,
  type MailboxItem,
  type MailboxResult,
} from './mailbox.js'

/**
 * What a RELAY cell carries once every hop layer is off and the end-to-end
 * AEAD opened (docs/protocol.md "Onion" → "Relay messages"):
 *
 *   command (1) ‖ length (2) ‖ data (length) ‖ zero padding  = 994 bytes
 *
 * sealed with ChaCha20-Poly1305 into the 1010-byte RELAY body.
 */
export const AEAD_TAG_LENGTH = 16
export const RELAY_PLAINTEXT_LENGTH = CELL_BODY_LENGTH - AEAD_TAG_LENGTH
const RELAY_HEADER_LENGTH = 3
export const MAX_RELAY_DATA = RELAY_PLAINTEXT_LENGTH - RELAY_HEADER_LENGTH
export const SIGNATURE_LENGTH = 64
/** What an INTRODUCE can hand the receiver: the data minus the intro auth key. */
export const MAX_INTRODUCE_PAYLOAD = MAX_RELAY_DATA - KEY_LENGTH
const EXTEND_LENGTH = KEY_LENGTH + 4 + 2 + KEY_LENGTH

export const RelayCommand = {
  extend: 1,
  extended: 2,
  data: 3,
  test: 4,
  testReply: 5,
  introRegister: 6,
  introRegistered: 7,
  introduce: 8,
  introduceAck: 9,
  introduced: 10,
  mailboxDeposit: 11,
  mailboxFetch: 12,
  mailboxAck: 13,
  mailboxItem: 14,
  mailboxResult: 15,
} as const
export type RelayCommandName = keyof typeof RelayCommand

export const IntroduceStatus = { ok: 0, unknownIntro: 1 } as const

export type RelayMessage =
  | { command: 'extend'; nodeKey: Uint8Array; host: string; port: number; ephemeral: Uint8Array }
  | { command: 'extended'; ephemeral: Uint8Array; auth: Uint8Array }
  | { command: 'data' | 'test' | 'testReply' | 'introduced'; data: Uint8Array }
  | { command: 'introRegister'; authKey: Uint8Array; signature: Uint8Array }
  | { command: 'introRegistered' }
  | { command: 'introduce'; authKey: Uint8Array; payload: Uint8Array }
  | { command: 'introduceAck'; status: number }
  | { command: 'mailboxDeposit'; deposit: MailboxDeposit }
  | { command: 'mailboxFetch'; fetch: MailboxFetch }
  | { command: 'mailboxAck'; ack: MailboxAck }
  | { command: 'mailboxItem'; item: MailboxItem }
  | { command: 'mailboxResult'; result: MailboxResult }

const NAMES = new Map<number, RelayCommandName>(
  Object.entries(RelayCommand).map(([name, value]) => [value, name as RelayCommandName]),
)

function field(value: Uint8Array, length: number, name: string): Uint8Array {
  if (value.length !== length)
    throw new OnionWireError('RELAY_FIELD', `${name} must be ${length} bytes, got ${value.length}`)
  return value
}

/** Dotted IPv4 text → 4 bytes (no leading zeros, each part ≤ 255). */
export function ipv4Bytes(host: string): Uint8Array {
  const parts = host.split('.')
  if (parts.length !== 4 || parts.some((p) => !/^(0|[1-9]\d{0,2})$/.test(p) || Number(p) > 255))
    throw new OnionWireError('RELAY_FIELD', `${JSON.stringify(host)} is not an IPv4 address`)
  return Uint8Array.from(parts.map(Number))
}

function messageData(message: RelayMessage): Uint8Array {
  switch (message.command) {
    case 'extend': {
      if (!Number.isInteger(message.port) || message.port < 1 || message.port > 0xffff)
        throw new OnionWireError('RELAY_FIELD', `port ${message.port} is not in 1..65535`)
      const out = new Uint8Array(EXTEND_LENGTH)
      out.set(field(message.nodeKey, KEY_LENGTH, 'node key'))
      out.set(ipv4Bytes(message.host), KEY_LENGTH)
      new DataView(out.buffer).setUint16(KEY_LENGTH + 4, message.port)
      out.set(field(message.ephemeral, KEY_LENGTH, 'ephemeral key'), KEY_LENGTH + 6)
      return out
    }
    case 'extended':
      return concat(
        field(message.ephemeral, KEY_LENGTH, 'ephemeral key'),
        field(message.auth, KEY_LENGTH, 'auth'),
      )
    case 'data':
    case 'test':
    case 'testReply':
    case 'introduced':
      return message.data
    case 'introRegister':
      return concat(
        field(message.authKey, KEY_LENGTH, 'auth key'),
        field(message.signature, SIGNATURE_LENGTH, 'signature'),
      )
    case 'introRegistered':
      return new Uint8Array(0)
    case 'introduce':
      return concat(field(message.authKey, KEY_LENGTH, 'auth key'), message.payload)
    case 'introduceAck':
      return Uint8Array.of(message.status)
    case 'mailboxDeposit':
      return encodeDeposit(message.deposit)
    case 'mailboxFetch':
      return encodeFetch(message.fetch)
    case 'mailboxAck':
      return encodeAck(message.ack)
    case 'mailboxItem':
      return encodeItem(message.item)
    case 'mailboxResult':
      return encodeResult(message.result)
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length)
  out.set(a)
  out.set(b, a.length)
  return out
}

/** The padded plaintext (RELAY_PLAINTEXT_LENGTH bytes) of one relay message. */
export function encodeRelayMessage(message: RelayMessage): Uint8Array {
  const data = messageData(message)
  if (data.length > MAX_RELAY_DATA)
    throw new OnionWireError('RELAY_LENGTH', `relay data of ${data.length} bytes; at most ${MAX_RELAY_DATA}`)
  const out = new Uint8Array(RELAY_PLAINTEXT_LENGTH)
  out[0] = RelayCommand[message.command]
  new DataView(out.buffer).setUint16(1, data.length)
  out.set(data, RELAY_HEADER_LENGTH)
  return out
}

function exact(data: Uint8Array, length: number, command: string): void {
  if (data.length !== length)
    throw new OnionWireError('RELAY_LENGTH', `${command} carries ${length} bytes, got ${data.length}`)
}

/** Strict: known command, length within the plaintext, exact field sizes, zero padding. */
export function decodeRelayMessage(plain: Uint8Array): RelayMessage {
  if (plain.length !== RELAY_PLAINTEXT_LENGTH)
    throw new OnionWireError(
      'RELAY_LENGTH',
      `relay plaintext is ${RELAY_PLAINTEXT_LENGTH} bytes, got ${plain.length}`,
    )
  const command = NAMES.get(plain[0]!)
  if (!command) throw new OnionWireError('RELAY_COMMAND', `unknown relay command ${plain[0]}`)
  const length = (plain[1]! << 8) | plain[2]!
  if (length > MAX_RELAY_DATA)
    throw new OnionWireError('RELAY_LENGTH', `relay data length ${length} exceeds ${MAX_RELAY_DATA}`)
  for (let i = RELAY_HEADER_LENGTH + length; i < plain.length; i++)
    if (plain[i] !== 0) throw new OnionWireError('CELL_PADDING', 'relay padding is not zero')
  const data = plain.slice(RELAY_HEADER_LENGTH, RELAY_HEADER_LENGTH + length)
  switch (command) {
    case 'extend': {
      exact(data, EXTEND_LENGTH, command)
      const port = (data[KEY_LENGTH + 4]! << 8) | data[KEY_LENGTH + 5]!
      if (port === 0) throw new OnionWireError('RELAY_FIELD', 'EXTEND port 0')
      return {
        command,
        nodeKey: data.slice(0, KEY_LENGTH),
        host: [...data.subarray(KEY_LENGTH, KEY_LENGTH + 4)].join('.'),
        port,
        ephemeral: data.slice(KEY_LENGTH + 6),
      }
    }
    case 'extended':
      exact(data, 2 * KEY_LENGTH, command)
      return { command, ephemeral: data.slice(0, KEY_LENGTH), auth: data.slice(KEY_LENGTH) }
    case 'data':
    case 'test':
    case 'testReply':
    case 'introduced':
      return { command, data }
    case 'introRegister':
      exact(data, KEY_LENGTH + SIGNATURE_LENGTH, command)
      return { command, authKey: data.slice(0, KEY_LENGTH), signature: data.slice(KEY_LENGTH) }
    case 'introRegistered':
      exact(data, 0, command)
      return { command }
    case 'introduce':
      if (data.length < KEY_LENGTH)
        throw new OnionWireError('RELAY_LENGTH', `introduce carries at least ${KEY_LENGTH} bytes`)
      return { command, authKey: data.slice(0, KEY_LENGTH), payload: data.slice(KEY_LENGTH) }
    case 'introduceAck':
      exact(data, 1, command)
      return { command, status: data[0]! }
    case 'mailboxDeposit':
      return { command, deposit: decodeDeposit(data) }
    case 'mailboxFetch':
      return { command, fetch: decodeFetch(data) }
    case 'mailboxAck':
      return { command, ack: decodeAck(data) }
    case 'mailboxItem':
      return { command, item: decodeItem(data) }
    case 'mailboxResult':
      return { command, result: decodeResult(data) }
  }
}

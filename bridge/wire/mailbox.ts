import type { CryptoBackend } from '../crypto/backend.js'
import { defaultBackend } from '../crypto/default-backend.js'
import { DOMAIN } from '../crypto/domains.js'
import { signedBytes } from '../crypto/sign.js'
import { CELL_BODY_LENGTH, KEY_LENGTH, OnionWireError } from './cell.js'

/**
 * The mailbox messages (docs/protocol.md "Mailboxes" → "Messages"): the data
 * of the relay commands MAILBOX_DEPOSIT, _FETCH, _ACK sent to a holder at the
 * end of an outbound circuit, and _ITEM, _RESULT it answers on that circuit.
 *
 *   DEPOSIT  mailbox id (20) ‖ expiry (4) ‖ stamp (8) ‖ item (1..959)
 *   FETCH    mailbox key (32) ‖ signature (64) ‖ skip (2) [‖ from (8)]
 *   ACK      mailbox key (32) ‖ signature (64) ‖ count (1) ‖ item ids (16 each)
 *   ITEM     expiry (4) ‖ item (1..959)
 *   RESULT   status (1) ‖ sent (2) ‖ more (4) [‖ next (8)]
 *
 * Integers are big-endian; expiries are Unix seconds. A DEPOSIT of a full
 * 959-byte envelope fills a relay message exactly. A FETCH with the cursor
 * `from` asks only for items the holder stored at or after that sequence, and
 * its RESULT then says `next`, the sequence to pass the next time; a FETCH
 * without one (as before cursors) gets every item and a 7-byte RESULT.
 */
export const MAILBOX_ID_LENGTH = 20
export const ITEM_ID_LENGTH = 16
const STAMP_LENGTH = 8
const SIGNATURE_LENGTH = 64
/** MAX_RELAY_DATA of relay-message.ts (which imports this file): the cell body minus AEAD tag and header. */
const RELAY_DATA = CELL_BODY_LENGTH - 16 - 3
const DEPOSIT_HEADER = MAILBOX_ID_LENGTH + 4 + STAMP_LENGTH
/** The largest item a holder keeps: what fits one DEPOSIT (959 bytes, the envelope size). */
export const MAX_MAILBOX_ITEM = RELAY_DATA - DEPOSIT_HEADER
const AUTH_LENGTH = KEY_LENGTH + SIGNATURE_LENGTH
const FETCH_LENGTH = AUTH_LENGTH + 2
const CURSOR_LENGTH = 8
/** Cursors are holder sequences: integers a JS number carries exactly. */
const MAX_CURSOR = Number.MAX_SAFE_INTEGER
/** Item ids one ACK can name. */
export const MAX_ACK_IDS = Math.floor((RELAY_DATA - AUTH_LENGTH - 1) / ITEM_ID_LENGTH)
const RESULT_LENGTH = 7

/** A holder's answer to every request (docs/protocol.md "Mailboxes" → "Result codes"). */
export const MailboxStatus = {
  ok: 0,
  /** The mailbox or the holder's disk budget is full. */
  overQuota: 1,
  /** The expiry is past, or further ahead than the holder keeps items. */
  expired: 2,
  /** No valid proof-of-work stamp for this item at the holder's difficulty. */
  badStamp: 3,
  /** The signature does not verify under the mailbox key over this circuit. */
  badAuth: 4,
  /** This relay keeps no mailboxes, or the request names nothing it knows. */
  unknown: 5,
  /** The holder could not read or write its store; try another holder. */
  unavailable: 6,
} as const
export type MailboxStatusName = keyof typeof MailboxStatus
export const MAILBOX_STATUS_NAMES = new Map<number, MailboxStatusName>(
  Object.entries(MailboxStatus).map(([name, code]) => [code, name as MailboxStatusName]),
)

export interface MailboxDeposit {
  mailboxId: Uint8Array
  expiry: number
  stamp: Uint8Array
  item: Uint8Array
}

/** Proof of the mailbox key: a signature over the circuit's binding (and, for ACK, the ids). */
export interface MailboxAuth {
  mailboxKey: Uint8Array
  signature: Uint8Array
}

export interface MailboxFetch extends MailboxAuth {
  /** Items to pass over (those already received in this round). */
  skip: number
  /** Only items the holder stored at or after this sequence (a `next` it gave); none: every item. */
  from?: number
}

export interface MailboxAck extends MailboxAuth {
  ids: Uint8Array[]
}

export interface MailboxItem {
  expiry: number
  item: Uint8Array
}

export interface MailboxResult {
  status: number
  /** FETCH: items sent before this result. */
  sent: number
  /** FETCH: items left after them. */
  more: number
  /** FETCH with `from`: the holder's next store sequence, the `from` of the next fetch. */
  next?: number
}

/** id = SHA-256(len ‖ "paranoim/v1/mailbox-item-id" ‖ item)[0..16]: every holder and the fetcher compute the same. */
export function mailboxItemId(item: Uint8Array, backend: CryptoBackend = defaultBackend): Uint8Array {
  return backend.sha256(signedBytes(DOMAIN.mailboxItemId, item)).slice(0, ITEM_ID_LENGTH)
}

function fail(message: string): never {
  throw new OnionWireError('RELAY_FIELD', message)
}

function sized(value: Uint8Array, length: number, name: string): Uint8Array {
  if (!(value instanceof Uint8Array) || value.length !== length)
    fail(`${name} must be ${length} bytes, got ${value?.length}`)
  return value
}

function checkItem(item: Uint8Array): Uint8Array {
  if (!(item instanceof Uint8Array) || item.length < 1 || item.length > MAX_MAILBOX_ITEM)
    fail(`a mailbox item is 1 to ${MAX_MAILBOX_ITEM} bytes, got ${item?.length}`)
  return item
}

function checkUint(value: number, max: number, name: string): number {
  if (!Number.isInteger(value) || value < 0 || value > max) fail(`${name} ${value} is not in 0..${max}`)
  return value
}

function length(data: Uint8Array, min: number, max: number, what: string): void {
  if (data.length < min || data.length > max)
    throw new OnionWireError('RELAY_LENGTH', `${what} is ${min}..${max} bytes, got ${data.length}`)
}

/** A message of one of a few fixed lengths (with or without its optional cursor). */
function exactly(data: Uint8Array, lengths: number[], what: string): void {
  if (!lengths.includes(data.length))
    throw new OnionWireError('RELAY_LENGTH', `${what} is ${lengths.join(' or ')} bytes, got ${data.length}`)
}

class Writer {
  readonly bytes: Uint8Array
  readonly #view: DataView
  #at = 0
  constructor(size: number) {
    this.bytes = new Uint8Array(size)
    this.#view = new DataView(this.bytes.buffer)
  }
  put(part: Uint8Array): this {
    this.bytes.set(part, this.#at)
    this.#at += part.length
    return this
  }
  u8(value: number): this {
    this.#view.setUint8(this.#at++, value)
    return this
  }
  u16(value: number): this {
    this.#view.setUint16(this.#at, value)
    this.#at += 2
    return this
  }
  u32(value: number): this {
    this.#view.setUint32(this.#at, value)
    this.#at += 4
    return this
  }
  u64(value: number): this {
    this.#view.setBigUint64(this.#at, BigInt(value))
    this.#at += 8
    return this
  }
}

class Reader {
  readonly #data: Uint8Array
  readonly #view: DataView
  #at = 0
  constructor(data: Uint8Array) {
    this.#data = data
    this.#view = new DataView(data.buffer, data.byteOffset, data.byteLength)
  }
  take(n: number): Uint8Array {
    const out = this.#data.slice(this.#at, this.#at + n)
    this.#at += n
    return out
  }
  rest(): Uint8Array {
    return this.take(this.#data.length - this.#at)
  }
  u8(): number {
    return this.#view.getUint8(this.#at++)
  }
  u16(): number {
    this.#at += 2
    return this.#view.getUint16(this.#at - 2)
  }
  u32(): number {
    this.#at += 4
    return this.#view.getUint32(this.#at - 4)
  }
  /** A cursor: refused past MAX_CURSOR rather than rounded. */
  cursor(): number {
    this.#at += 8
    const value = this.#view.getBigUint64(this.#at - 8)
    if (value > BigInt(MAX_CURSOR)) fail(`cursor ${value} is past ${MAX_CURSOR}`)
    return Number(value)
  }
}

export function encodeDeposit(d: MailboxDeposit): Uint8Array {
  const item = checkItem(d.item)
  return new Writer(DEPOSIT_HEADER + item.length)
    .put(sized(d.mailboxId, MAILBOX_ID_LENGTH, 'mailbox id'))
    .u32(checkUint(d.expiry, 0xffffffff, 'expiry'))
    .put(sized(d.stamp, STAMP_LENGTH, 'stamp'))
    .put(item).bytes
}

export function decodeDeposit(data: Uint8Array): MailboxDeposit {
  length(data, DEPOSIT_HEADER + 1, DEPOSIT_HEADER + MAX_MAILBOX_ITEM, 'MAILBOX_DEPOSIT')
  const r = new Reader(data)
  return {
    mailboxId: r.take(MAILBOX_ID_LENGTH),
    expiry: r.u32(),
    stamp: r.take(STAMP_LENGTH),
    item: r.rest(),
  }
}

function writeAuth(size: number, auth: MailboxAuth): Writer {
  return new Writer(size)
    .put(sized(auth.mailboxKey, KEY_LENGTH, 'mailbox key'))
    .put(sized(auth.signature, SIGNATURE_LENGTH, 'signature'))
}

export function encodeFetch(f: MailboxFetch): Uint8Array {
  const cursor = f.from !== undefined
  const w = writeAuth(FETCH_LENGTH + (cursor ? CURSOR_LENGTH : 0), f).u16(checkUint(f.skip, 0xffff, 'skip'))
  if (cursor) w.u64(checkUint(f.from!, MAX_CURSOR, 'from'))
  return w.bytes
}

export function decodeFetch(data: Uint8Array): MailboxFetch {
  exactly(data, [FETCH_LENGTH, FETCH_LENGTH + CURSOR_LENGTH], 'MAILBOX_FETCH')
  const r = new Reader(data)
  const fetch = { mailboxKey: r.take(KEY_LENGTH), signature: r.take(SIGNATURE_LENGTH), skip: r.u16() }
  return data.length === FETCH_LENGTH ? fetch : { ...fetch, from: r.cursor() }
}

export function encodeAck(a: MailboxAck): Uint8Array {
  if (a.ids.length < 1 || a.ids.length > MAX_ACK_IDS) fail(`an ACK names 1 to ${MAX_ACK_IDS} items`)
  const w = writeAuth(AUTH_LENGTH + 1 + a.ids.length * ITEM_ID_LENGTH, a).u8(a.ids.length)
  for (const id of a.ids) w.put(sized(id, ITEM_ID_LENGTH, 'item id'))
  return w.bytes
}

export function decodeAck(data: Uint8Array): MailboxAck {
  length(data, AUTH_LENGTH + 1 + ITEM_ID_LENGTH, RELAY_DATA, 'MAILBOX_ACK')
  const r = new Reader(data)
  const auth = { mailboxKey: r.take(KEY_LENGTH), signature: r.take(SIGNATURE_LENGTH) }
  const count = r.u8()
  if (count < 1 || data.length !== AUTH_LENGTH + 1 + count * ITEM_ID_LENGTH)
    throw new OnionWireError('RELAY_LENGTH', `MAILBOX_ACK of ${data.length} bytes cannot name ${count} ids`)
  return { ...auth, ids: Array.from({ length: count }, () => r.take(ITEM_ID_LENGTH)) }
}

/** What a mailbox key signs to authorize an ACK of `ids` on a circuit with `binding`. */
export function ackSignedBytes(binding: Uint8Array, ids: Uint8Array[]): Uint8Array {
  const w = new Writer(binding.length + ids.length * ITEM_ID_LENGTH).put(binding)
  for (const id of ids) w.put(sized(id, ITEM_ID_LENGTH, 'item id'))
  return w.bytes
}

export function encodeItem(i: MailboxItem): Uint8Array {
  const item = checkItem(i.item)
  return new Writer(4 + item.length).u32(checkUint(i.expiry, 0xffffffff, 'expiry')).put(item).bytes
}

export function decodeItem(data: Uint8Array): MailboxItem {
  length(data, 5, 4 + MAX_MAILBOX_ITEM, 'MAILBOX_ITEM')
  const r = new Reader(data)
  return { expiry: r.u32(), item: r.rest() }
}

export function encodeResult(res: MailboxResult): Uint8Array {
  if (!MAILBOX_STATUS_NAMES.has(res.status)) fail(`unknown mailbox status ${res.status}`)
  const cursor = res.next !== undefined
  const w = new Writer(RESULT_LENGTH + (cursor ? CURSOR_LENGTH : 0))
    .u8(res.status)
    .u16(checkUint(res.sent, 0xffff, 'sent'))
    .u32(checkUint(res.more, 0xffffffff, 'more'))
  if (cursor) w.u64(checkUint(res.next!, MAX_CURSOR, 'next'))
  return w.bytes
}

export function decodeResult(data: Uint8Array): MailboxResult {
  exactly(data, [RESULT_LENGTH, RESULT_LENGTH + CURSOR_LENGTH], 'MAILBOX_RESULT')
  const r = new Reader(data)
  const status = r.u8()
  if (!MAILBOX_STATUS_NAMES.has(status)) fail(`unknown mailbox status ${status}`)
  const res = { status, sent: r.u16(), more: r.u32() }
  return data.length === RESULT_LENGTH ? res : { ...res, next: r.cursor() }
}

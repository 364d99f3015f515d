import { DOMAIN } from '../crypto/domains.js'
import { signedBytes } from '../crypto/sign.js'
import {
  GROUP_FORMAT_VERSION,
  GroupWireError,
  HASH_BYTES,
  KEY_BYTES,
  MESSAGE_ID_BYTES,
  Reader,
  SIGNATURE_BYTES,
  sized,
  Writer,
} from './group-bytes.js'
import { GROUP_LIMITS } from './group-update.js'
import { MAX_MAILBOX_ITEM } from './mailbox.js'

/**
 * Group messages, their plaintext body and epoch key packages
 * (docs/protocol.md "Groups" → "Group messages", "Key packages").
 *
 *   message = format (1) = 1 ‖ mode (1) ‖ group key (32) ‖ epoch (4) ‖ sender (32)
 *             ‖ message id (16) ‖ timestamp (8, ms) ‖ rest
 *   normal (mode 1): rest = nonce (24) ‖ XChaCha20-Poly1305(message key, nonce, body,
 *             AAD = every byte before the ciphertext) ‖ signature (64) by the sender's
 *             identity over len ‖ "paranoim/v1/group-message" ‖ every byte before it
 *   high (mode 2): rest = body, in clear here: it only ever travels inside the pairwise
 *             envelope from the sender to one member, which seals and authenticates it
 */
export const GROUP_MESSAGE_MODES = { normal: 1, high: 2 } as const
export type GroupMessageMode = keyof typeof GROUP_MESSAGE_MODES
export const NONCE_BYTES = 24
export const AEAD_TAG_BYTES = 16
/** format ‖ mode ‖ group ‖ epoch ‖ sender ‖ id ‖ timestamp. */
export const MESSAGE_HEADER_BYTES = 1 + 1 + KEY_BYTES + 4 + KEY_BYTES + MESSAGE_ID_BYTES + 8
/** Bytes a normal-mode message adds to its body: header, nonce, tag, signature (198). */
export const NORMAL_OVERHEAD = MESSAGE_HEADER_BYTES + NONCE_BYTES + AEAD_TAG_BYTES + SIGNATURE_BYTES
/** The largest group message the format allows (the config's messaging.maxMessageBytes is the real bound). */
export const MAX_GROUP_MESSAGE_BYTES = 1024 * 1024

export interface GroupMessageHeader {
  mode: GroupMessageMode
  group: Uint8Array
  epoch: number
  /** The sender's address (identity public key). */
  sender: Uint8Array
  id: Uint8Array
  timestamp: number
}

export interface NormalGroupMessage extends GroupMessageHeader {
  mode: 'normal'
  nonce: Uint8Array
  ciphertext: Uint8Array
  signature: Uint8Array
}

export interface HighGroupMessage extends GroupMessageHeader {
  mode: 'high'
  body: Uint8Array
}

export type GroupMessage = NormalGroupMessage | HighGroupMessage

function writeHeader(h: GroupMessageHeader): Writer {
  return new Writer()
    .u8(GROUP_FORMAT_VERSION)
    .u8(GROUP_MESSAGE_MODES[h.mode], 'mode')
    .fixed(h.group, KEY_BYTES, 'group key')
    .u32(h.epoch, 'epoch')
    .fixed(h.sender, KEY_BYTES, 'sender')
    .fixed(h.id, MESSAGE_ID_BYTES, 'message id')
    .u64(h.timestamp, 'timestamp')
}

/** The AEAD's associated data of a normal message: its header and nonce. */
export function normalMessageAad(h: GroupMessageHeader, nonce: Uint8Array): Uint8Array {
  return writeHeader({ ...h, mode: 'normal' })
    .fixed(nonce, NONCE_BYTES, 'nonce')
    .finish()
}

/** What the sender signs: len ‖ DOMAIN.groupMessage ‖ header ‖ nonce ‖ ciphertext. */
export function normalMessageSignedBytes(m: Omit<NormalGroupMessage, 'signature'>): Uint8Array {
  const unsigned = writeHeader(m).fixed(m.nonce, NONCE_BYTES, 'nonce').bytes(m.ciphertext).finish()
  return signedBytes(DOMAIN.groupMessage, unsigned)
}

export function encodeGroupMessage(m: GroupMessage): Uint8Array {
  const w = writeHeader(m)
  if (m.mode === 'normal') {
    if (m.ciphertext.length < AEAD_TAG_BYTES + 1)
      throw new GroupWireError('GROUP_LENGTH', 'a normal group message seals at least one byte')
    w.fixed(m.nonce, NONCE_BYTES, 'nonce')
      .bytes(m.ciphertext)
      .fixed(m.signature, SIGNATURE_BYTES, 'signature')
  } else {
    if (m.body.length < 1)
      throw new GroupWireError('GROUP_LENGTH', 'a group message body is at least one byte')
    w.bytes(m.body)
  }
  if (w.length > MAX_GROUP_MESSAGE_BYTES)
    throw new GroupWireError(
      'GROUP_LENGTH',
      `a group message of ${w.length} bytes; at most ${MAX_GROUP_MESSAGE_BYTES}`,
    )
  return w.finish()
}

/** Strict: sizes first, known format and mode, a time that fits a number. */
export function decodeGroupMessage(bytes: Uint8Array): GroupMessage {
  if (!(bytes instanceof Uint8Array) || bytes.length > MAX_GROUP_MESSAGE_BYTES)
    throw new GroupWireError('GROUP_LENGTH', `a group message is at most ${MAX_GROUP_MESSAGE_BYTES} bytes`)
  const r = new Reader(bytes, 'a group message')
  const format = r.u8('format')
  if (format !== GROUP_FORMAT_VERSION)
    throw new GroupWireError('GROUP_VERSION', `unknown group message format ${format}`)
  const modeCode = r.u8('mode')
  const header = {
    group: r.take(KEY_BYTES, 'group key'),
    epoch: r.u32('epoch'),
    sender: r.take(KEY_BYTES, 'sender'),
    id: r.take(MESSAGE_ID_BYTES, 'message id'),
    timestamp: r.u64('timestamp'),
  }
  if (modeCode === GROUP_MESSAGE_MODES.high) {
    if (r.remaining < 1) throw new GroupWireError('GROUP_LENGTH', 'a high-mode group message without a body')
    return { mode: 'high', ...header, body: r.rest() }
  }
  if (modeCode !== GROUP_MESSAGE_MODES.normal)
    throw new GroupWireError('GROUP_TYPE', `unknown group message mode ${modeCode}`)
  const nonce = r.take(NONCE_BYTES, 'nonce')
  if (r.remaining < AEAD_TAG_BYTES + 1 + SIGNATURE_BYTES)
    throw new GroupWireError('GROUP_LENGTH', 'a normal group message is cut short in its ciphertext')
  const ciphertext = r.take(r.remaining - SIGNATURE_BYTES, 'ciphertext')
  return { mode: 'normal', ...header, nonce, ciphertext, signature: r.rest() }
}

/**
 * The plaintext of a group message: a kind and its data.
 *
 *   1 message   the gateway's stanza payload (wire/stanza-payload.ts), opaque here
 *   2 join      nick len (1) ‖ nick                     (MUC: an occupant entered)
 *   3 leave     status len (2) ‖ status (may be empty)  (MUC: an occupant left)
 *   4 nick      nick len (1) ‖ new nick                  (MUC: nick change)
 *   5 subject   subject len (2) ‖ subject (empty: cleared)
 *   6 presence  show (1) ‖ status len (2) ‖ status      (MUC: an occupant's show/status changed)
 *   7 role      target address (32) ‖ role (1: 1 visitor, 2 participant, 3 moderator)
 *               (MUC: a moderator's voice or moderator change, XEP-0045 §8.4-8.6, §9.6-9.7)
 *
 * A join may end with the occupant's presence (the bytes of a presence body
 * after its kind), only when it is not plain available without a status, so
 * one join has one encoding.
 */
export type GroupBody =
  | { kind: 'message'; payload: Uint8Array }
  | { kind: 'join'; nick: string; presence?: OccupantPresence }
  | { kind: 'leave'; status: string }
  | { kind: 'nick'; nick: string }
  | { kind: 'subject'; subject: string }
  | ({ kind: 'presence' } & OccupantPresence)
  | { kind: 'role'; target: Uint8Array; role: OccupantRole }

/** An occupant's availability (RFC 6121 §4.7.2.1 show, none = available) and status text. */
export interface OccupantPresence {
  show: OccupantShow
  status: string
}
export const OCCUPANT_SHOWS = ['available', 'away', 'chat', 'dnd', 'xa'] as const
export type OccupantShow = (typeof OCCUPANT_SHOWS)[number]

/** The roles a role body sets (none, a kick, is a state change: the member is removed). */
export const OCCUPANT_ROLES = ['visitor', 'participant', 'moderator'] as const
export type OccupantRole = (typeof OCCUPANT_ROLES)[number]

/** Plain available, no status: what a join without a presence tail means. */
export const isPlainPresence = (p: OccupantPresence): boolean => p.show === 'available' && p.status === ''

export const GROUP_BODY_KINDS = {
  message: 1,
  join: 2,
  leave: 3,
  nick: 4,
  subject: 5,
  presence: 6,
  role: 7,
} as const
const BODY_KIND_NAMES = new Map<number, GroupBody['kind']>(
  Object.entries(GROUP_BODY_KINDS).map(([name, code]) => [code, name as GroupBody['kind']]),
)
/** Caps of the control texts (bytes of UTF-8). */
export const BODY_LIMITS = { status: 1024, subject: 1024 } as const

function nonEmpty(text: string, name: string): string {
  if (text.length === 0) throw new GroupWireError('GROUP_FIELD', `empty ${name}`)
  return text
}

export function encodeGroupBody(body: GroupBody): Uint8Array {
  const w = new Writer().u8(GROUP_BODY_KINDS[body.kind] ?? 0xff, 'body kind')
  switch (body.kind) {
    case 'message':
      if (body.payload.length < 1) throw new GroupWireError('GROUP_FIELD', 'an empty stanza payload')
      return w.bytes(body.payload).finish()
    case 'join':
      w.text8(nonEmpty(body.nick, 'nick'), GROUP_LIMITS.nick, 'nick')
      if (body.presence && !isPlainPresence(body.presence)) writePresence(w, body.presence)
      return w.finish()
    case 'nick':
      return w.text8(nonEmpty(body.nick, 'nick'), GROUP_LIMITS.nick, 'nick').finish()
    case 'presence':
      return writePresence(w, body).finish()
    case 'leave':
      return w.text16(body.status, BODY_LIMITS.status, 'status').finish()
    case 'subject':
      return w.text16(body.subject, BODY_LIMITS.subject, 'subject').finish()
    case 'role': {
      const code = OCCUPANT_ROLES.indexOf(body.role) + 1
      if (code === 0) throw new GroupWireError('GROUP_FIELD', `unknown role ${String(body.role)}`)
      return w.fixed(body.target, KEY_BYTES, 'role target').u8(code, 'role').finish()
    }
    default:
      throw new GroupWireError('GROUP_TYPE', 'unknown group body kind')
  }
}

function writePresence(w: Writer, p: OccupantPresence): Writer {
  const code = OCCUPANT_SHOWS.indexOf(p.show)
  if (code < 0) throw new GroupWireError('GROUP_FIELD', `unknown show ${p.show}`)
  return w.u8(code, 'show').text16(p.status, BODY_LIMITS.status, 'status')
}

function readPresence(r: Reader): OccupantPresence {
  const code = r.u8('show')
  const show = OCCUPANT_SHOWS[code]
  if (show === undefined) throw new GroupWireError('GROUP_FIELD', `unknown show code ${code}`)
  return { show, status: r.text16(BODY_LIMITS.status, 'status') }
}

export function decodeGroupBody(bytes: Uint8Array): GroupBody {
  const r = new Reader(bytes, 'a group body')
  const code = r.u8('kind')
  const kind = BODY_KIND_NAMES.get(code)
  let body: GroupBody
  switch (kind) {
    case 'message':
      if (r.remaining < 1) throw new GroupWireError('GROUP_FIELD', 'an empty stanza payload')
      return { kind, payload: r.rest() }
    case 'join': {
      const nick = nonEmpty(r.text8(GROUP_LIMITS.nick, 'nick'), 'nick')
      if (r.remaining === 0) return { kind, nick }
      const presence = readPresence(r)
      if (isPlainPresence(presence))
        throw new GroupWireError(
          'GROUP_FIELD',
          'a join carries a presence only when it is not plain available',
        )
      body = { kind, nick, presence }
      break
    }
    case 'nick':
      body = { kind, nick: nonEmpty(r.text8(GROUP_LIMITS.nick, 'nick'), 'nick') }
      break
    case 'presence':
      body = { kind, ...readPresence(r) }
      break
    case 'leave':
      body = { kind, status: r.text16(BODY_LIMITS.status, 'status') }
      break
    case 'subject':
      body = { kind, subject: r.text16(BODY_LIMITS.subject, 'subject') }
      break
    case 'role': {
      const target = r.take(KEY_BYTES, 'role target')
      const code = r.u8('role')
      const role = OCCUPANT_ROLES[code - 1]
      if (!role) throw new GroupWireError('GROUP_FIELD', `unknown role ${code}`)
      body = { kind, target, role }
      break
    }
    default:
      throw new GroupWireError('GROUP_TYPE', `unknown group body kind ${code}`)
  }
  r.end()
  return body
}

/**
 * The key material of one epoch, for one member (sent as a pairwise messenger
 * body, sealed by the envelope):
 *
 *   format (1) = 1 ‖ group key (32) ‖ epoch (4) ‖ state version (4) ‖ state hash (32)
 *   ‖ epoch key (32) ‖ group mailbox seed (32)          = 137 bytes
 */
export interface KeyPackage {
  group: Uint8Array
  epoch: number
  /** The state the key was made for (its version and hash): binds the key to one membership. */
  stateVersion: number
  stateHash: Uint8Array
  /** 32 random bytes; the epoch's message key derives from it. */
  epochKey: Uint8Array
  /** 32 random bytes; the group mailbox key of the epoch derives from it. */
  mailboxSeed: Uint8Array
}

export const KEY_PACKAGE_BYTES = 1 + KEY_BYTES + 4 + 4 + HASH_BYTES + 32 + 32

export function encodeKeyPackage(p: KeyPackage): Uint8Array {
  return new Writer()
    .u8(GROUP_FORMAT_VERSION)
    .fixed(p.group, KEY_BYTES, 'group key')
    .u32(p.epoch, 'epoch')
    .u32(p.stateVersion, 'state version')
    .fixed(p.stateHash, HASH_BYTES, 'state hash')
    .fixed(p.epochKey, 32, 'epoch key')
    .fixed(p.mailboxSeed, 32, 'mailbox seed')
    .finish()
}

export function decodeKeyPackage(bytes: Uint8Array): KeyPackage {
  sized(bytes, KEY_PACKAGE_BYTES, 'a key package')
  const r = new Reader(bytes, 'a key package')
  const format = r.u8('format')
  if (format !== GROUP_FORMAT_VERSION)
    throw new GroupWireError('GROUP_VERSION', `unknown key package format ${format}`)
  return {
    group: r.take(KEY_BYTES, 'group key'),
    epoch: r.u32('epoch'),
    stateVersion: r.u32('state version'),
    stateHash: r.take(HASH_BYTES, 'state hash'),
    epochKey: r.take(32, 'epoch key'),
    mailboxSeed: r.take(32, 'mailbox seed'),
  }
}

/**
 * A group message deposited in the group mailbox (docs/protocol.md "Groups" →
 * "Group mailbox items"): always one full mailbox item, so holders learn
 * nothing from its size.
 *
 *   item = nonce (24) ‖ XChaCha20-Poly1305(mailbox item key, nonce, padded)
 *   padded = length (2) ‖ group message (≤ 917) ‖ zero padding      (919 bytes)
 */
export const MAILBOX_ITEM_BYTES = MAX_MAILBOX_ITEM
export const MAILBOX_PADDED_BYTES = MAILBOX_ITEM_BYTES - NONCE_BYTES - AEAD_TAG_BYTES
/** The longest group message one mailbox item carries. */
export const MAX_MAILBOX_MESSAGE = MAILBOX_PADDED_BYTES - 2

export function padMailboxMessage(message: Uint8Array): Uint8Array {
  if (message.length < 1 || message.length > MAX_MAILBOX_MESSAGE)
    throw new GroupWireError(
      'GROUP_LENGTH',
      `a group mailbox item carries 1..${MAX_MAILBOX_MESSAGE} bytes, got ${message.length}`,
    )
  const out = new Uint8Array(MAILBOX_PADDED_BYTES)
  new DataView(out.buffer).setUint16(0, message.length)
  out.set(message, 2)
  return out
}

/** Strict: exact size, a length in range, zero padding. */
export function unpadMailboxMessage(padded: Uint8Array): Uint8Array {
  sized(padded, MAILBOX_PADDED_BYTES, 'a padded mailbox message')
  const r = new Reader(padded, 'a padded mailbox message')
  const length = r.u16('length')
  if (length < 1 || length > MAX_MAILBOX_MESSAGE)
    throw new GroupWireError('GROUP_LENGTH', `a padded mailbox message of length ${length}`)
  const message = r.take(length, 'message')
  if (r.rest().some((b) => b !== 0)) throw new GroupWireError('GROUP_FIELD', 'mailbox padding is not zero')
  return message
}

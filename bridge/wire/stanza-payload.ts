import { ParanoimError } from '../errors.js'

/**
 * The network form of a stanza (docs/protocol.md "Gateway payloads"): what a
 * bridge's gateway hands the messenger as a message body.
 *
 *   version (1) = 1 ‖ kind (1) ‖ fields
 *   field = tag (1) ‖ length (LEB128, minimal, ≤ 3 bytes) ‖ value (length)
 *
 * Binary rather than XML so that no client formatting (attribute order,
 * namespace prefixes, whitespace, xml:lang) can survive the trip: only the
 * fields below exist. Canonical: tags strictly increasing, each at most once,
 * no empty text, no unknown tag, flag bit or enum value, so one stanza content
 * has exactly one encoding and a decoder accepts nothing else.
 */
export const PAYLOAD_VERSION = 1
export const NETWORK_ID_LENGTH = 16

/** Per-field caps (bytes of UTF-8); the body's cap is the messaging config's (checked by the gateway). */
export const PAYLOAD_LIMITS = {
  body: 1024 * 1024,
  subject: 1024,
  thread: 256,
  status: 8000,
  url: 2048,
  description: 1024,
} as const

const MAX_LENGTH_BYTES = 3

export type PayloadErrorCode =
  /** Shorter than its header, a length running past the end, or a field over its cap. */
  | 'PAYLOAD_LENGTH'
  | 'PAYLOAD_VERSION'
  | 'PAYLOAD_KIND'
  /** Unknown, repeated or out-of-order tag, or a field missing or not allowed with the others. */
  | 'PAYLOAD_FIELD'
  /** Not UTF-8, empty, or holding characters XML 1.0 forbids. */
  | 'PAYLOAD_TEXT'
  /** An enum value or flag bit that does not exist, or a length not written minimally. */
  | 'PAYLOAD_VALUE'

/** A gateway payload that does not match its format. The decoder throws only this. */
export class PayloadError extends ParanoimError {
  declare readonly code: PayloadErrorCode
  constructor(code: PayloadErrorCode, message: string) {
    super(code, message)
  }
}

export const CHAT_STATES = ['active', 'composing', 'paused', 'inactive', 'gone'] as const
export const MARKERS = ['received', 'displayed', 'acknowledged'] as const
export const SHOWS = ['away', 'chat', 'dnd', 'xa'] as const
export const PRESENCE_TYPES = [
  'available',
  'unavailable',
  'subscribe',
  'subscribed',
  'unsubscribe',
  'unsubscribed',
  'probe',
] as const
/** Bits of the message flags field, in bit order: XEP-0184 request, XEP-0333 markable, XEP-0334 hints. */
export const MESSAGE_FLAGS = [
  'request',
  'markable',
  'noStore',
  'noPermanentStore',
  'store',
  'noCopy',
] as const

export type ChatState = (typeof CHAT_STATES)[number]
export type MarkerType = (typeof MARKERS)[number]
export type Show = (typeof SHOWS)[number]
export type PresenceType = (typeof PRESENCE_TYPES)[number]
export type MessageFlag = (typeof MESSAGE_FLAGS)[number]

export interface MessagePayload {
  kind: 'message'
  type: 'chat' | 'normal'
  /** The message's network id (fresh random per message; never the client's id). */
  id: Uint8Array
  body?: string
  subject?: string
  thread?: { id: string; parent?: string }
  flags?: MessageFlag[]
  chatState?: ChatState
  /** XEP-0184 `<received id/>`: the network id of the message it acknowledges. */
  receipt?: Uint8Array
  /** XEP-0333 marker for the message with this network id. */
  marker?: { type: MarkerType; id: Uint8Array }
  /** XEP-0308: corrects the message with this network id. */
  replace?: Uint8Array
  /** XEP-0066 out-of-band data. */
  oob?: { url: string; description?: string }
}

export interface PresencePayload {
  kind: 'presence'
  type: PresenceType
  show?: Show
  /** Status text; for `subscribe`, the request text. */
  status?: string
}

export type StanzaPayload = MessagePayload | PresencePayload

const KIND = { chat: 1, normal: 2, presence: 3 } as const

const M = {
  id: 1,
  body: 2,
  subject: 3,
  thread: 4,
  threadParent: 5,
  flags: 6,
  chatState: 7,
  receipt: 8,
  marker: 9,
  replace: 10,
  url: 11,
  description: 12,
} as const
const P = { type: 1, show: 2, status: 3 } as const

const utf8 = new TextEncoder()
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
/** Characters outside XML 1.0's Char production (§2.2): they could not be put back into a stanza. */
const NOT_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u

// ---------- encoding ----------

class Writer {
  private readonly parts: number[][] = []
  private size = 0

  byte(value: number): void {
    this.push([value])
  }

  field(tag: number, value: Uint8Array): void {
    const header = [tag]
    let n = value.length
    do {
      const low = n & 0x7f
      n >>>= 7
      header.push(n > 0 ? low | 0x80 : low)
    } while (n > 0)
    this.push(header)
    this.push(Array.from(value))
  }

  text(tag: number, value: string | undefined, cap: number, name: string): void {
    if (value === undefined || value === '') return
    this.field(tag, checkedText(utf8.encode(value), cap, name))
  }

  bytes(): Uint8Array {
    const out = new Uint8Array(this.size)
    let at = 0
    for (const part of this.parts) {
      out.set(part, at)
      at += part.length
    }
    return out
  }

  private push(part: number[]): void {
    this.parts.push(part)
    this.size += part.length
  }
}

function checkedText(bytes: Uint8Array, cap: number, name: string): Uint8Array {
  if (bytes.length > cap)
    throw new PayloadError('PAYLOAD_LENGTH', `${name} of ${bytes.length} bytes; at most ${cap}`)
  let text: string
  try {
    text = strictUtf8.decode(bytes)
  } catch {
    throw new PayloadError('PAYLOAD_TEXT', `${name} is not UTF-8`)
  }
  if (text === '') throw new PayloadError('PAYLOAD_TEXT', `${name} is empty`)
  if (NOT_XML_CHAR.test(text)) throw new PayloadError('PAYLOAD_TEXT', `${name} holds a character XML forbids`)
  return bytes
}

function networkId(value: Uint8Array, name: string): Uint8Array {
  if (value.length !== NETWORK_ID_LENGTH)
    throw new PayloadError(
      'PAYLOAD_LENGTH',
      `${name} must be ${NETWORK_ID_LENGTH} bytes, got ${value.length}`,
    )
  return value
}

function flagBits(flags: readonly MessageFlag[]): number {
  return flags.reduce((bits, flag) => bits | (1 << MESSAGE_FLAGS.indexOf(flag)), 0)
}

function encodeMessage(w: Writer, m: MessagePayload): void {
  w.byte(KIND[m.type])
  w.field(M.id, networkId(m.id, 'id'))
  w.text(M.body, m.body, PAYLOAD_LIMITS.body, 'body')
  w.text(M.subject, m.subject, PAYLOAD_LIMITS.subject, 'subject')
  if (m.thread) {
    w.text(M.thread, m.thread.id, PAYLOAD_LIMITS.thread, 'thread')
    w.text(M.threadParent, m.thread.parent, PAYLOAD_LIMITS.thread, 'thread parent')
  }
  const bits = flagBits(m.flags ?? [])
  if (bits !== 0) w.field(M.flags, Uint8Array.of(bits))
  if (m.chatState) w.field(M.chatState, Uint8Array.of(CHAT_STATES.indexOf(m.chatState) + 1))
  if (m.receipt) w.field(M.receipt, networkId(m.receipt, 'receipt id'))
  if (m.marker) {
    const id = networkId(m.marker.id, 'marker id')
    w.field(M.marker, Uint8Array.of(MARKERS.indexOf(m.marker.type) + 1, ...id))
  }
  if (m.replace) w.field(M.replace, networkId(m.replace, 'replace id'))
  if (m.oob) {
    w.text(M.url, m.oob.url, PAYLOAD_LIMITS.url, 'url')
    w.text(M.description, m.oob.description, PAYLOAD_LIMITS.description, 'description')
  }
}

function encodePresence(w: Writer, p: PresencePayload): void {
  w.byte(KIND.presence)
  w.field(P.type, Uint8Array.of(PRESENCE_TYPES.indexOf(p.type)))
  if (p.show) w.field(P.show, Uint8Array.of(SHOWS.indexOf(p.show) + 1))
  w.text(P.status, p.status, PAYLOAD_LIMITS.status, 'status')
}

/** The canonical bytes of a payload; empty strings count as absent. Throws PayloadError for values out of bounds. */
export function encodeStanzaPayload(payload: StanzaPayload): Uint8Array {
  const w = new Writer()
  w.byte(PAYLOAD_VERSION)
  if (payload.kind === 'message') encodeMessage(w, payload)
  else encodePresence(w, payload)
  return w.bytes()
}

// ---------- decoding ----------

/** Splits the fields, checking lengths, tag order and minimal length encodings. */
function readFields(bytes: Uint8Array, start: number, maxTag: number): Map<number, Uint8Array> {
  const fields = new Map<number, Uint8Array>()
  let at = start
  let lastTag = 0
  while (at < bytes.length) {
    const tag = bytes[at++]!
    if (tag <= lastTag || tag > maxTag)
      throw new PayloadError('PAYLOAD_FIELD', `tag ${tag} unknown, repeated or out of order`)
    lastTag = tag
    let length = 0
    for (let i = 0; ; i++) {
      if (i === MAX_LENGTH_BYTES) throw new PayloadError('PAYLOAD_LENGTH', `field ${tag}: length too long`)
      if (at >= bytes.length) throw new PayloadError('PAYLOAD_LENGTH', `field ${tag}: truncated length`)
      const b = bytes[at++]!
      length |= (b & 0x7f) << (7 * i)
      if (b & 0x80) continue
      if (b === 0 && i > 0) throw new PayloadError('PAYLOAD_VALUE', `field ${tag}: length not minimal`)
      break
    }
    if (length > bytes.length - at)
      throw new PayloadError('PAYLOAD_LENGTH', `field ${tag} of ${length} bytes runs past the end`)
    fields.set(tag, bytes.subarray(at, at + length))
    at += length
  }
  return fields
}

class Fields {
  constructor(private readonly map: Map<number, Uint8Array>) {}

  has(tag: number): boolean {
    return this.map.has(tag)
  }

  text(tag: number, cap: number, name: string): string | undefined {
    const value = this.map.get(tag)
    return value === undefined ? undefined : strictUtf8.decode(checkedText(value, cap, name))
  }

  id(tag: number, name: string): Uint8Array | undefined {
    const value = this.map.get(tag)
    return value === undefined ? undefined : networkId(value, name).slice()
  }

  /** A one-byte enum field: 1-based index into `values` unless `zeroBased`. */
  choice<T>(tag: number, values: readonly T[], name: string, zeroBased = false): T | undefined {
    const value = this.map.get(tag)
    if (value === undefined) return undefined
    if (value.length !== 1) throw new PayloadError('PAYLOAD_LENGTH', `${name} is one byte`)
    const found = values[value[0]! - (zeroBased ? 0 : 1)]
    if (found === undefined) throw new PayloadError('PAYLOAD_VALUE', `unknown ${name} ${value[0]}`)
    return found
  }
}

function decodeFlags(fields: Map<number, Uint8Array>): MessageFlag[] | undefined {
  const value = fields.get(M.flags)
  if (value === undefined) return undefined
  if (value.length !== 1) throw new PayloadError('PAYLOAD_LENGTH', 'flags are one byte')
  const bits = value[0]!
  if (bits === 0 || bits >> MESSAGE_FLAGS.length !== 0)
    throw new PayloadError('PAYLOAD_VALUE', `flags ${bits} are not canonical`)
  return MESSAGE_FLAGS.filter((_, i) => bits & (1 << i))
}

function decodeMessage(type: 'chat' | 'normal', raw: Map<number, Uint8Array>): MessagePayload {
  const f = new Fields(raw)
  const id = f.id(M.id, 'id')
  if (!id) throw new PayloadError('PAYLOAD_FIELD', 'a message needs an id')
  if (f.has(M.threadParent) && !f.has(M.thread))
    throw new PayloadError('PAYLOAD_FIELD', 'a thread parent without a thread')
  if (f.has(M.description) && !f.has(M.url))
    throw new PayloadError('PAYLOAD_FIELD', 'an out-of-band description without a url')
  const m: MessagePayload = { kind: 'message', type, id }
  const body = f.text(M.body, PAYLOAD_LIMITS.body, 'body')
  if (body !== undefined) m.body = body
  const subject = f.text(M.subject, PAYLOAD_LIMITS.subject, 'subject')
  if (subject !== undefined) m.subject = subject
  const thread = f.text(M.thread, PAYLOAD_LIMITS.thread, 'thread')
  if (thread !== undefined) {
    const parent = f.text(M.threadParent, PAYLOAD_LIMITS.thread, 'thread parent')
    m.thread = parent === undefined ? { id: thread } : { id: thread, parent }
  }
  const flags = decodeFlags(raw)
  if (flags) m.flags = flags
  const chatState = f.choice(M.chatState, CHAT_STATES, 'chat state')
  if (chatState) m.chatState = chatState
  const receipt = f.id(M.receipt, 'receipt id')
  if (receipt) m.receipt = receipt
  const marker = raw.get(M.marker)
  if (marker !== undefined) {
    if (marker.length !== 1 + NETWORK_ID_LENGTH)
      throw new PayloadError('PAYLOAD_LENGTH', `a marker is ${1 + NETWORK_ID_LENGTH} bytes`)
    const markerType = MARKERS[marker[0]! - 1]
    if (!markerType) throw new PayloadError('PAYLOAD_VALUE', `unknown marker ${marker[0]}`)
    m.marker = { type: markerType, id: marker.slice(1) }
  }
  const replace = f.id(M.replace, 'replace id')
  if (replace) m.replace = replace
  const url = f.text(M.url, PAYLOAD_LIMITS.url, 'url')
  if (url !== undefined) {
    const description = f.text(M.description, PAYLOAD_LIMITS.description, 'description')
    m.oob = description === undefined ? { url } : { url, description }
  }
  return m
}

function decodePresence(raw: Map<number, Uint8Array>): PresencePayload {
  const f = new Fields(raw)
  const type = f.choice(P.type, PRESENCE_TYPES, 'presence type', true)
  if (!type) throw new PayloadError('PAYLOAD_FIELD', 'a presence needs a type')
  const p: PresencePayload = { kind: 'presence', type }
  const show = f.choice(P.show, SHOWS, 'show')
  if (show) p.show = show
  const status = f.text(P.status, PAYLOAD_LIMITS.status, 'status')
  if (status !== undefined) p.status = status
  return p
}

/** Strict decode of untrusted bytes; throws PayloadError only. */
export function decodeStanzaPayload(bytes: Uint8Array): StanzaPayload {
  if (bytes.length < 2)
    throw new PayloadError('PAYLOAD_LENGTH', `a payload has at least 2 bytes, got ${bytes.length}`)
  if (bytes[0] !== PAYLOAD_VERSION)
    throw new PayloadError('PAYLOAD_VERSION', `payload version ${bytes[0]} is not supported`)
  const kind = bytes[1]!
  if (kind === KIND.chat || kind === KIND.normal)
    return decodeMessage(kind === KIND.chat ? 'chat' : 'normal', readFields(bytes, 2, M.description))
  if (kind === KIND.presence) return decodePresence(readFields(bytes, 2, P.status))
  throw new PayloadError('PAYLOAD_KIND', `unknown payload kind ${kind}`)
}

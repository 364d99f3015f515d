import { ParanoimError } from '../errors.js'

/**
 * Messaging frames (docs/protocol.md "Messaging frames"): the plaintext inside
 * an end-to-end envelope. Integers are big-endian.
 *
 *   DATA      0x01 ‖ flags (1) ‖ stream (8) ‖ seq (4) ‖ message id (16) ‖ timestamp (8)
 *                  ‖ chunk index (2) ‖ chunk count (2) ‖ body
 *   ACK       0x02 ‖ stream (8) ‖ n (1) ‖ n × [ seq (4) ‖ bitmap length b (1) ‖ bitmap (b) ]
 *   EPHEMERAL 0x03 ‖ message id (16) ‖ timestamp (8) ‖ body
 *
 * An ACK entry with b = 0 says "the whole message is stored"; otherwise bit i
 * (byte i >> 3, most significant bit first) says "chunk i arrived".
 */
export const STREAM_ID_BYTES = 8
export const MESSAGE_ID_BYTES = 16
export const DATA_HEADER_BYTES = 42
export const EPHEMERAL_HEADER_BYTES = 25
export const ACK_HEADER_BYTES = 10
/** seq (4) ‖ bitmap length (1), before the bitmap. */
const ACK_ENTRY_HEADER_BYTES = 5
export const MAX_ACK_ENTRIES = 255
const MAX_BITMAP_BYTES = 255
/** The highest chunk index an ACK bitmap can name, plus one. */
export const MAX_CHUNKS = MAX_BITMAP_BYTES * 8
const MAX_SEQ = 0xffffffff
const RELIABLE_FLAG = 0x01

const FrameType = { data: 1, ack: 2, ephemeral: 3 } as const

export type FrameErrorCode =
  /** The frame or a field is shorter or longer than its format allows. */
  | 'FRAME_LENGTH'
  /** An unknown frame type byte. */
  | 'FRAME_TYPE'
  /** A field holds a value its format forbids (flags, chunk index, timestamp…). */
  | 'FRAME_FIELD'

/** Frame bytes that do not match their format. The decoder throws only this. */
export class FrameError extends ParanoimError {
  declare readonly code: FrameErrorCode

  constructor(code: FrameErrorCode, message: string) {
    super(code, message)
  }
}

export interface DataFrame {
  type: 'data'
  reliable: boolean
  stream: Uint8Array
  seq: number
  id: Uint8Array
  timestamp: number
  index: number
  count: number
  body: Uint8Array
}

/** `chunks: 'stored'` acknowledges the whole message, durably stored; a list names the chunks that arrived. */
export interface AckEntry {
  seq: number
  chunks: 'stored' | readonly number[]
}

export interface AckFrame {
  type: 'ack'
  stream: Uint8Array
  entries: readonly AckEntry[]
}

export interface EphemeralFrame {
  type: 'ephemeral'
  id: Uint8Array
  timestamp: number
  body: Uint8Array
}

export type Frame = DataFrame | AckFrame | EphemeralFrame

function fixed(value: Uint8Array, length: number, name: string): Uint8Array {
  if (value.length !== length)
    throw new FrameError('FRAME_LENGTH', `${name} must be ${length} bytes, got ${value.length}`)
  return value
}

function checkInteger(value: number, max: number, name: string): number {
  if (!Number.isInteger(value) || value < 0 || value > max)
    throw new FrameError('FRAME_FIELD', `${name} ${value} is not an integer in 0..${max}`)
  return value
}

function setU64(view: DataView, offset: number, value: number): void {
  checkInteger(value, Number.MAX_SAFE_INTEGER, 'timestamp')
  view.setUint32(offset, Math.floor(value / 2 ** 32))
  view.setUint32(offset + 4, value >>> 0)
}

function getU64(view: DataView, offset: number): number {
  const high = view.getUint32(offset)
  if (high > 0x1fffff) throw new FrameError('FRAME_FIELD', 'timestamp beyond 2^53 − 1')
  return high * 2 ** 32 + view.getUint32(offset + 4)
}

/** The bitmap of chunk indices, without trailing zero bytes (so every set has one encoding). */
function chunkBitmap(chunks: readonly number[]): Uint8Array {
  if (chunks.length === 0) throw new FrameError('FRAME_FIELD', 'an ACK entry names at least one chunk')
  const bitmap = new Uint8Array(
    (Math.max(...chunks.map((i) => checkInteger(i, MAX_CHUNKS - 1, 'chunk'))) >> 3) + 1,
  )
  for (const i of chunks) bitmap[i >> 3]! |= 0x80 >> (i & 7)
  return bitmap
}

function bitmapChunks(bitmap: Uint8Array): number[] {
  const chunks: number[] = []
  for (let i = 0; i < bitmap.length * 8; i++) if (bitmap[i >> 3]! & (0x80 >> (i & 7))) chunks.push(i)
  return chunks
}

/** Bytes one ACK entry takes. */
export function ackEntryBytes(entry: AckEntry): number {
  return ACK_ENTRY_HEADER_BYTES + (entry.chunks === 'stored' ? 0 : chunkBitmap(entry.chunks).length)
}

function encodeData(frame: DataFrame): Uint8Array {
  checkInteger(frame.count, MAX_CHUNKS, 'chunk count')
  if (frame.count === 0) throw new FrameError('FRAME_FIELD', 'chunk count 0')
  checkInteger(frame.index, frame.count - 1, 'chunk index')
  const out = new Uint8Array(DATA_HEADER_BYTES + frame.body.length)
  const view = new DataView(out.buffer)
  out[0] = FrameType.data
  out[1] = frame.reliable ? RELIABLE_FLAG : 0
  out.set(fixed(frame.stream, STREAM_ID_BYTES, 'stream id'), 2)
  view.setUint32(10, checkInteger(frame.seq, MAX_SEQ, 'seq'))
  out.set(fixed(frame.id, MESSAGE_ID_BYTES, 'message id'), 14)
  setU64(view, 30, frame.timestamp)
  view.setUint16(38, frame.index)
  view.setUint16(40, frame.count)
  out.set(frame.body, DATA_HEADER_BYTES)
  return out
}

function encodeAck(frame: AckFrame): Uint8Array {
  const n = frame.entries.length
  if (n < 1 || n > MAX_ACK_ENTRIES)
    throw new FrameError('FRAME_FIELD', `an ACK carries 1..${MAX_ACK_ENTRIES} entries, got ${n}`)
  const parts = frame.entries.map((entry) => {
    const bitmap = entry.chunks === 'stored' ? new Uint8Array(0) : chunkBitmap(entry.chunks)
    const part = new Uint8Array(ACK_ENTRY_HEADER_BYTES + bitmap.length)
    new DataView(part.buffer).setUint32(0, checkInteger(entry.seq, MAX_SEQ, 'seq'))
    part[4] = bitmap.length
    part.set(bitmap, ACK_ENTRY_HEADER_BYTES)
    return part
  })
  const out = new Uint8Array(ACK_HEADER_BYTES + parts.reduce((sum, p) => sum + p.length, 0))
  out[0] = FrameType.ack
  out.set(fixed(frame.stream, STREAM_ID_BYTES, 'stream id'), 1)
  out[9] = n
  let offset = ACK_HEADER_BYTES
  for (const part of parts) {
    out.set(part, offset)
    offset += part.length
  }
  return out
}

function encodeEphemeral(frame: EphemeralFrame): Uint8Array {
  const out = new Uint8Array(EPHEMERAL_HEADER_BYTES + frame.body.length)
  out[0] = FrameType.ephemeral
  out.set(fixed(frame.id, MESSAGE_ID_BYTES, 'message id'), 1)
  setU64(new DataView(out.buffer), 17, frame.timestamp)
  out.set(frame.body, EPHEMERAL_HEADER_BYTES)
  return out
}

export function encodeFrame(frame: Frame): Uint8Array {
  switch (frame.type) {
    case 'data':
      return encodeData(frame)
    case 'ack':
      return encodeAck(frame)
    case 'ephemeral':
      return encodeEphemeral(frame)
  }
}

function atLeast(bytes: Uint8Array, length: number, what: string): void {
  if (bytes.length < length)
    throw new FrameError('FRAME_LENGTH', `${what} has at least ${length} bytes, got ${bytes.length}`)
}

function decodeData(bytes: Uint8Array, view: DataView): DataFrame {
  atLeast(bytes, DATA_HEADER_BYTES, 'a DATA frame')
  if (bytes[1]! & ~RELIABLE_FLAG) throw new FrameError('FRAME_FIELD', `unknown DATA flags ${bytes[1]}`)
  const index = view.getUint16(38)
  const count = view.getUint16(40)
  if (count === 0 || count > MAX_CHUNKS)
    throw new FrameError('FRAME_FIELD', `chunk count ${count} is not in 1..${MAX_CHUNKS}`)
  if (index >= count) throw new FrameError('FRAME_FIELD', `chunk index ${index} of ${count}`)
  return {
    type: 'data',
    reliable: bytes[1] === RELIABLE_FLAG,
    stream: bytes.slice(2, 10),
    seq: view.getUint32(10),
    id: bytes.slice(14, 30),
    timestamp: getU64(view, 30),
    index,
    count,
    body: bytes.slice(DATA_HEADER_BYTES),
  }
}

function decodeAck(bytes: Uint8Array, view: DataView): AckFrame {
  atLeast(bytes, ACK_HEADER_BYTES + ACK_ENTRY_HEADER_BYTES, 'an ACK frame')
  const n = bytes[9]!
  if (n === 0) throw new FrameError('FRAME_FIELD', 'an ACK without entries')
  const entries: AckEntry[] = []
  let offset = ACK_HEADER_BYTES
  for (let i = 0; i < n; i++) {
    if (offset + ACK_ENTRY_HEADER_BYTES > bytes.length)
      throw new FrameError('FRAME_LENGTH', `ACK entry ${i} of ${n} is cut short`)
    const seq = view.getUint32(offset)
    const b = bytes[offset + 4]!
    const end = offset + ACK_ENTRY_HEADER_BYTES + b
    if (end > bytes.length) throw new FrameError('FRAME_LENGTH', `ACK entry ${i} bitmap is cut short`)
    if (b > 0 && bytes[end - 1] === 0)
      throw new FrameError('FRAME_FIELD', `ACK entry ${i} bitmap ends with a zero byte`)
    entries.push({ seq, chunks: b === 0 ? 'stored' : bitmapChunks(bytes.subarray(end - b, end)) })
    offset = end
  }
  if (offset !== bytes.length)
    throw new FrameError('FRAME_LENGTH', `${bytes.length - offset} bytes after the last ACK entry`)
  return { type: 'ack', stream: bytes.slice(1, 9), entries }
}

function decodeEphemeral(bytes: Uint8Array, view: DataView): EphemeralFrame {
  atLeast(bytes, EPHEMERAL_HEADER_BYTES, 'an EPHEMERAL frame')
  return {
    type: 'ephemeral',
    id: bytes.slice(1, 17),
    timestamp: getU64(view, 17),
    body: bytes.slice(EPHEMERAL_HEADER_BYTES),
  }
}

/** Strict: known type, lengths first, every field in range, nothing after an ACK's last entry. */
export function decodeFrame(bytes: Uint8Array): Frame {
  atLeast(bytes, 1, 'a frame')
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  switch (bytes[0]) {
    case FrameType.data:
      return decodeData(bytes, view)
    case FrameType.ack:
      return decodeAck(bytes, view)
    case FrameType.ephemeral:
      return decodeEphemeral(bytes, view)
    default:
      throw new FrameError('FRAME_TYPE', `unknown frame type ${bytes[0]}`)
  }
}

import { ParanoimError } from '../errors.js'

/**
 * The value `v` of every BEP 44 mutable item ParanoIM publishes:
 *
 *   magic "PIMR" (4) ‖ version (1) = 1 ‖ kind (1) ‖ expiresAt (8, u64 BE, ms since the epoch) ‖ body
 *
 * The BEP 44 signature covers salt, seq and the whole of v, so the expiry is
 * signed by the record key. bittorrent-dht refuses v of 1000 bytes or more,
 * so the body holds at most 985 bytes. A `blinded` body is
 *   nonce (24) ‖ XChaCha20-Poly1305 ciphertext ‖ tag (16)
 * (see dht/blinded-record.ts for its key).
 */
export const RECORD_MAGIC = Uint8Array.of(0x50, 0x49, 0x4d, 0x52) // "PIMR"
export const RECORD_VERSION = 1
export const RECORD_HEADER_LENGTH = 14
/** BEP 44: v must stay under 1000 bytes. */
export const MAX_RECORD_VALUE_LENGTH = 999
export const MAX_RECORD_BODY_LENGTH = MAX_RECORD_VALUE_LENGTH - RECORD_HEADER_LENGTH
export const BLINDED_NONCE_LENGTH = 24
export const BLINDED_TAG_LENGTH = 16

export const RecordKind = {
  /** Body in clear, signed by the owner's own key. */
  signed: 1,
  /** Body encrypted; signed by a per-period blinded key (rendezvous records). */
  blinded: 2,
} as const
export type RecordKind = (typeof RecordKind)[keyof typeof RecordKind]

export interface RecordValue {
  kind: RecordKind
  /** Milliseconds since the epoch. */
  expiresAt: number
  body: Uint8Array
}

export type RecordFormatErrorCode =
  | 'RECORD_TRUNCATED'
  | 'RECORD_MAGIC'
  | 'RECORD_VERSION'
  | 'RECORD_KIND'
  | 'RECORD_TOO_LARGE'
  | 'RECORD_EXPIRY'
  | 'RECORD_BODY'

export class RecordFormatError extends ParanoimError {
  declare readonly code: RecordFormatErrorCode

  constructor(code: RecordFormatErrorCode, message: string) {
    super(code, message)
  }
}

/** True when `value` starts with our magic: the DHT may also carry other people's items. */
export function isRecordValue(value: Uint8Array): boolean {
  return value.length >= RECORD_MAGIC.length && RECORD_MAGIC.every((byte, i) => value[i] === byte)
}

export function encodeRecordValue(record: RecordValue): Uint8Array {
  checkExpiry(record.expiresAt)
  checkBody(record.kind, record.body)
  const out = new Uint8Array(RECORD_HEADER_LENGTH + record.body.length)
  out.set(RECORD_MAGIC, 0)
  out[4] = RECORD_VERSION
  out[5] = record.kind
  new DataView(out.buffer).setBigUint64(6, BigInt(record.expiresAt))
  out.set(record.body, RECORD_HEADER_LENGTH)
  return out
}

/** Strict decode; throws RecordFormatError with a specific code. Does not judge the expiry against a clock. */
export function decodeRecordValue(value: Uint8Array): RecordValue {
  if (value.length > MAX_RECORD_VALUE_LENGTH) {
    throw new RecordFormatError(
      'RECORD_TOO_LARGE',
      `record of ${value.length} bytes (BEP 44 limit: under 1000)`,
    )
  }
  if (value.length < RECORD_HEADER_LENGTH) {
    throw new RecordFormatError(
      'RECORD_TRUNCATED',
      `record of ${value.length} bytes is shorter than its header`,
    )
  }
  if (!isRecordValue(value)) throw new RecordFormatError('RECORD_MAGIC', 'not a ParanoIM record')
  if (value[4] !== RECORD_VERSION) throw new RecordFormatError('RECORD_VERSION', `record version ${value[4]}`)
  const kind = value[5]
  if (kind !== RecordKind.signed && kind !== RecordKind.blinded) {
    throw new RecordFormatError('RECORD_KIND', `unknown record kind ${kind}`)
  }
  const expiry = new DataView(value.buffer, value.byteOffset, value.byteLength).getBigUint64(6)
  if (expiry > BigInt(Number.MAX_SAFE_INTEGER))
    throw new RecordFormatError('RECORD_EXPIRY', 'expiry out of range')
  const body = value.slice(RECORD_HEADER_LENGTH)
  checkBody(kind, body)
  return { kind, expiresAt: Number(expiry), body }
}

function checkExpiry(expiresAt: number): void {
  if (!Number.isSafeInteger(expiresAt) || expiresAt < 0) {
    throw new RecordFormatError('RECORD_EXPIRY', `expiry must be a non-negative integer, got ${expiresAt}`)
  }
}

function checkBody(kind: RecordKind, body: Uint8Array): void {
  if (body.length > MAX_RECORD_BODY_LENGTH) {
    throw new RecordFormatError(
      'RECORD_TOO_LARGE',
      `body of ${body.length} bytes (at most ${MAX_RECORD_BODY_LENGTH})`,
    )
  }
  if (kind === RecordKind.blinded && body.length < BLINDED_NONCE_LENGTH + BLINDED_TAG_LENGTH) {
    throw new RecordFormatError('RECORD_BODY', 'blinded body shorter than nonce and tag')
  }
}

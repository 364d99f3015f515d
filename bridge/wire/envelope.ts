import { ParanoimError } from '../errors.js'
import { KEY_LENGTH } from './cell.js'
import { AEAD_TAG_LENGTH, MAX_INTRODUCE_PAYLOAD } from './relay-message.js'

/**
 * An end-to-end envelope (docs/protocol.md "End-to-end envelopes"): one
 * message of a one-way Noise pattern from sender to recipient, always
 * ENVELOPE_LENGTH bytes so the intro relay that carries it learns nothing
 * from its size:
 *
 *   version (1) = 1 ‖ e (32) ‖ sealed sender (56) ‖ sealed body (870)
 *
 *   sender block (40, sealed with a 16-byte tag)
 *     = sender address (32, Ed25519) ‖ prekey id (8, all zero: no prekey)
 *   body (854, sealed with a 16-byte tag)
 *     = sender's prekey (32, X25519) ‖ its valid until (8, ms)
 *       ‖ frame length (2) ‖ frame ‖ zero padding
 *
 * Integers big-endian. Only the version and `e` are in clear.
 */
export const ENVELOPE_VERSION = 1
/** One INTRODUCE payload: every envelope has exactly this size. */
export const ENVELOPE_LENGTH = MAX_INTRODUCE_PAYLOAD
export const PREKEY_ID_LENGTH = 8
export const SENDER_BLOCK_LENGTH = KEY_LENGTH + PREKEY_ID_LENGTH
export const SEALED_SENDER_LENGTH = SENDER_BLOCK_LENGTH + AEAD_TAG_LENGTH
const HEADER_LENGTH = 1 + KEY_LENGTH
export const SEALED_BODY_LENGTH = ENVELOPE_LENGTH - HEADER_LENGTH - SEALED_SENDER_LENGTH
export const BODY_LENGTH = SEALED_BODY_LENGTH - AEAD_TAG_LENGTH
const BODY_HEADER_LENGTH = KEY_LENGTH + 8 + 2
/** The largest frame an envelope carries (812 bytes). */
export const MAX_FRAME_BYTES = BODY_LENGTH - BODY_HEADER_LENGTH
/** Bytes an envelope adds to a frame of MAX_FRAME_BYTES (147); smaller frames are padded. */
export const ENVELOPE_OVERHEAD = ENVELOPE_LENGTH - MAX_FRAME_BYTES

export type EnvelopeWireErrorCode =
  /** The envelope or a field has the wrong length. */
  | 'ENVELOPE_LENGTH'
  /** An envelope version this program does not know. */
  | 'ENVELOPE_VERSION'
  /** A field holds a value its format does not allow. */
  | 'ENVELOPE_FIELD'
  /** Padding that must be zero is not. */
  | 'ENVELOPE_PADDING'

/** Envelope bytes that do not match their format. The envelope decoders throw only this. */
export class EnvelopeWireError extends ParanoimError {
  declare readonly code: EnvelopeWireErrorCode

  constructor(code: EnvelopeWireErrorCode, message: string) {
    super(code, message)
  }
}

export interface EnvelopeParts {
  /** The sender's ephemeral X25519 public key. */
  ephemeral: Uint8Array
  sealedSender: Uint8Array
  sealedBody: Uint8Array
}

export interface SenderBlock {
  /** The sender's Ed25519 public key: its address. */
  sender: Uint8Array
  /** Which of the recipient's prekeys was mixed in; all zero when none. */
  prekeyId: Uint8Array
}

export interface EnvelopeBody {
  /** The sender's current X25519 prekey, for the recipient's replies. */
  prekey: Uint8Array
  /** When the sender deletes that prekey's private half (ms since the epoch). */
  prekeyValidUntil: number
  frame: Uint8Array
}

function expectLength(bytes: Uint8Array, length: number, what: string): void {
  if (bytes.length !== length)
    throw new EnvelopeWireError('ENVELOPE_LENGTH', `${what} of ${bytes.length} bytes; it must be ${length}`)
}

export function encodeEnvelope(parts: EnvelopeParts): Uint8Array {
  expectLength(parts.ephemeral, KEY_LENGTH, 'ephemeral key')
  expectLength(parts.sealedSender, SEALED_SENDER_LENGTH, 'sealed sender')
  expectLength(parts.sealedBody, SEALED_BODY_LENGTH, 'sealed body')
  const out = new Uint8Array(ENVELOPE_LENGTH)
  out[0] = ENVELOPE_VERSION
  out.set(parts.ephemeral, 1)
  out.set(parts.sealedSender, HEADER_LENGTH)
  out.set(parts.sealedBody, HEADER_LENGTH + SEALED_SENDER_LENGTH)
  return out
}

/** Strict: exact length first, then the version. The parts are copies. */
export function decodeEnvelope(bytes: Uint8Array): EnvelopeParts {
  expectLength(bytes, ENVELOPE_LENGTH, 'envelope')
  if (bytes[0] !== ENVELOPE_VERSION)
    throw new EnvelopeWireError('ENVELOPE_VERSION', `unknown envelope version ${bytes[0]}`)
  return {
    ephemeral: bytes.slice(1, HEADER_LENGTH),
    sealedSender: bytes.slice(HEADER_LENGTH, HEADER_LENGTH + SEALED_SENDER_LENGTH),
    sealedBody: bytes.slice(HEADER_LENGTH + SEALED_SENDER_LENGTH),
  }
}

export function encodeSenderBlock(block: SenderBlock): Uint8Array {
  expectLength(block.sender, KEY_LENGTH, 'sender address')
  expectLength(block.prekeyId, PREKEY_ID_LENGTH, 'prekey id')
  const out = new Uint8Array(SENDER_BLOCK_LENGTH)
  out.set(block.sender, 0)
  out.set(block.prekeyId, KEY_LENGTH)
  return out
}

export function decodeSenderBlock(bytes: Uint8Array): SenderBlock {
  expectLength(bytes, SENDER_BLOCK_LENGTH, 'sender block')
  return { sender: bytes.slice(0, KEY_LENGTH), prekeyId: bytes.slice(KEY_LENGTH) }
}

/** The all-zero prekey id: the envelope mixes in no prekey. */
export const NO_PREKEY_ID = new Uint8Array(PREKEY_ID_LENGTH)

export const isNoPrekey = (id: Uint8Array): boolean => id.every((b) => b === 0)

export function encodeEnvelopeBody(body: EnvelopeBody): Uint8Array {
  expectLength(body.prekey, KEY_LENGTH, 'prekey')
  if (!Number.isSafeInteger(body.prekeyValidUntil) || body.prekeyValidUntil < 0)
    throw new EnvelopeWireError('ENVELOPE_FIELD', `prekey valid until ${body.prekeyValidUntil} is not a time`)
  if (body.frame.length > MAX_FRAME_BYTES)
    throw new EnvelopeWireError(
      'ENVELOPE_LENGTH',
      `frame of ${body.frame.length} bytes; at most ${MAX_FRAME_BYTES}`,
    )
  const out = new Uint8Array(BODY_LENGTH)
  const view = new DataView(out.buffer)
  out.set(body.prekey, 0)
  view.setBigUint64(KEY_LENGTH, BigInt(body.prekeyValidUntil))
  view.setUint16(KEY_LENGTH + 8, body.frame.length)
  out.set(body.frame, BODY_HEADER_LENGTH)
  return out
}

/** Strict: exact length, a time that fits a JavaScript number, a frame length in range, zero padding. */
export function decodeEnvelopeBody(bytes: Uint8Array): EnvelopeBody {
  expectLength(bytes, BODY_LENGTH, 'envelope body')
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const validUntil = view.getBigUint64(KEY_LENGTH)
  if (validUntil > BigInt(Number.MAX_SAFE_INTEGER))
    throw new EnvelopeWireError('ENVELOPE_FIELD', 'prekey valid until is out of range')
  const frameLength = view.getUint16(KEY_LENGTH + 8)
  if (frameLength > MAX_FRAME_BYTES)
    throw new EnvelopeWireError('ENVELOPE_LENGTH', `frame length ${frameLength}; at most ${MAX_FRAME_BYTES}`)
  const end = BODY_HEADER_LENGTH + frameLength
  if (bytes.subarray(end).some((b) => b !== 0))
    throw new EnvelopeWireError('ENVELOPE_PADDING', 'envelope body padding is not zero')
  return {
    prekey: bytes.slice(0, KEY_LENGTH),
    prekeyValidUntil: Number(validUntil),
    frame: bytes.slice(BODY_HEADER_LENGTH, end),
  }
}

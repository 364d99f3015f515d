import type { CryptoBackend } from '../crypto/backend.js'
import { DOMAIN } from '../crypto/domains.js'
import { nativeBackend } from '../crypto/native.js'
import { signWithDomain, verifyWithDomain } from '../crypto/sign.js'
import { ParanoimError } from '../errors.js'

/**
 * A group fan-out packet (docs/protocol.md "Groups" → "Fan-out packets"): one group message
 * as it travels from member to member, as the body of a pairwise message.
 * Relays forward the same bytes, so the origin's signature covers all of it.
 *
 *   version (1) = 1 ‖ width (1) ‖ group id (32) ‖ origin (32) ‖ message id (16)
 *   ‖ timestamp (8, ms) ‖ state version (4) ‖ member count n (2, ≥ 1)
 *   ‖ online bitmap (⌈n / 8⌉) ‖ inner length (4, ≥ 1) ‖ inner (sealed group message)
 *   ‖ signature (64) = Ed25519(origin, len ‖ "paranoim/v1/group-fanout" ‖ every byte before it)
 *
 * Integers are big-endian. width 0 = the origin sends to each member itself,
 * 2..255 = the tree's growth per layer (messaging/groups/fanout.ts). Bit i of
 * the bitmap (byte i >> 3, most significant bit first) is member i of the
 * state's list; the bits after member n − 1 are zero, so every packet has one
 * encoding. The inner bytes are opaque here (the group protocol's).
 */
export const FANOUT_VERSION = 1
export const GROUP_ID_LENGTH = 32
export const FANOUT_MESSAGE_ID_LENGTH = 16
const ADDRESS_LENGTH = 32
const FIXED_LENGTH = 96
const INNER_LENGTH_BYTES = 4
const SIGNATURE_LENGTH = 64
export const MAX_MEMBER_COUNT = 0xffff
/** The smallest packet: one member, one inner byte. */
export const MIN_FANOUT_PACKET = FIXED_LENGTH + 1 + INNER_LENGTH_BYTES + 1 + SIGNATURE_LENGTH

export type FanoutWireErrorCode =
  /** Shorter or longer than the format (or the caller's size limit) allows. */
  | 'FANOUT_LENGTH'
  | 'FANOUT_VERSION'
  /** A field holds a value the format forbids (width 1, member count 0, bits past the last member…). */
  | 'FANOUT_FIELD'

/** Fan-out packet bytes that do not match their format. The decoder throws only this. */
export class FanoutWireError extends ParanoimError {
  declare readonly code: FanoutWireErrorCode

  constructor(code: FanoutWireErrorCode, message: string) {
    super(code, message)
  }
}

export interface FanoutFields {
  width: number
  groupId: Uint8Array
  messageId: Uint8Array
  timestamp: number
  stateVersion: number
  memberCount: number
  online: Uint8Array
  inner: Uint8Array
}

export interface FanoutPacket extends FanoutFields {
  origin: Uint8Array
  /** Every byte the signature covers. */
  signed: Uint8Array
  signature: Uint8Array
  /** The exact bytes received, forwarded unchanged. */
  bytes: Uint8Array
}

function fail(code: FanoutWireErrorCode, message: string): never {
  throw new FanoutWireError(code, message)
}

function sized(value: Uint8Array, length: number, name: string): Uint8Array {
  if (!(value instanceof Uint8Array) || value.length !== length)
    fail('FANOUT_FIELD', `${name} must be ${length} bytes, got ${value?.length}`)
  return value
}

function checkUint(value: number, max: number, name: string): number {
  if (!Number.isInteger(value) || value < 0 || value > max)
    fail('FANOUT_FIELD', `${name} ${value} is not an integer in 0..${max}`)
  return value
}

export const bitmapLength = (memberCount: number): number => Math.ceil(memberCount / 8)

/** Fields shared by encoder and decoder: width, member count, and the zero bits after the last member. */
function checkShape(width: number, memberCount: number, online: Uint8Array): void {
  if (width === 1 || width > 255) fail('FANOUT_FIELD', `width ${width} is neither 0 nor 2..255`)
  if (memberCount < 1 || memberCount > MAX_MEMBER_COUNT)
    fail('FANOUT_FIELD', `member count ${memberCount} is not in 1..${MAX_MEMBER_COUNT}`)
  const spare = bitmapLength(memberCount) * 8 - memberCount
  if (spare > 0 && (online[online.length - 1]! & ((1 << spare) - 1)) !== 0)
    fail('FANOUT_FIELD', 'online bits set after the last member')
}

/** The signed packet of `fields` from `signer` (its identity key pair); throws FanoutWireError on a bad field. */
export function signFanoutPacket(
  fields: FanoutFields,
  signer: { seed: Uint8Array; publicKey: Uint8Array },
  backend: CryptoBackend = nativeBackend,
): Uint8Array {
  checkUint(fields.width, 255, 'width')
  checkUint(fields.memberCount, MAX_MEMBER_COUNT, 'member count')
  sized(fields.online, bitmapLength(fields.memberCount), 'online bitmap')
  checkShape(fields.width, fields.memberCount, fields.online)
  if (!(fields.inner instanceof Uint8Array) || fields.inner.length < 1)
    fail('FANOUT_FIELD', 'the inner message is empty')
  const signedLength = FIXED_LENGTH + fields.online.length + INNER_LENGTH_BYTES + fields.inner.length
  const out = new Uint8Array(signedLength + SIGNATURE_LENGTH)
  const view = new DataView(out.buffer)
  out[0] = FANOUT_VERSION
  out[1] = fields.width
  out.set(sized(fields.groupId, GROUP_ID_LENGTH, 'group id'), 2)
  out.set(sized(signer.publicKey, ADDRESS_LENGTH, 'origin'), 34)
  out.set(sized(fields.messageId, FANOUT_MESSAGE_ID_LENGTH, 'message id'), 66)
  const timestamp = checkUint(fields.timestamp, Number.MAX_SAFE_INTEGER, 'timestamp')
  view.setUint32(82, Math.floor(timestamp / 2 ** 32))
  view.setUint32(86, timestamp >>> 0)
  view.setUint32(90, checkUint(fields.stateVersion, 0xffffffff, 'state version'))
  view.setUint16(94, fields.memberCount)
  out.set(fields.online, FIXED_LENGTH)
  const innerAt = FIXED_LENGTH + fields.online.length
  view.setUint32(innerAt, fields.inner.length)
  out.set(fields.inner, innerAt + INNER_LENGTH_BYTES)
  out.set(
    signWithDomain(signer.seed, DOMAIN.groupFanout, out.subarray(0, signedLength), backend),
    signedLength,
  )
  return out
}

/**
 * Strict decode, lengths first: version, shape, the inner length that must
 * end exactly at the signature. Does NOT check the signature — call
 * verifyFanoutPacket before acting on anything but the dedupe key, so a
 * relay can drop its second copy without paying for a verify.
 */
export function decodeFanoutPacket(bytes: Uint8Array, maxBytes: number): FanoutPacket {
  if (bytes.length < MIN_FANOUT_PACKET || bytes.length > maxBytes)
    fail('FANOUT_LENGTH', `a fan-out packet is ${MIN_FANOUT_PACKET}..${maxBytes} bytes, got ${bytes.length}`)
  if (bytes[0] !== FANOUT_VERSION) fail('FANOUT_VERSION', `fan-out packet version ${bytes[0]}`)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const memberCount = view.getUint16(94)
  const innerAt = FIXED_LENGTH + bitmapLength(memberCount)
  if (bytes.length < innerAt + INNER_LENGTH_BYTES + 1 + SIGNATURE_LENGTH)
    fail('FANOUT_LENGTH', `${bytes.length} bytes are too few for ${memberCount} members`)
  const innerLength = view.getUint32(innerAt)
  const signedLength = innerAt + INNER_LENGTH_BYTES + innerLength
  if (innerLength < 1 || signedLength + SIGNATURE_LENGTH !== bytes.length)
    fail('FANOUT_LENGTH', `inner length ${innerLength} does not fit a ${bytes.length}-byte packet`)
  const online = bytes.slice(FIXED_LENGTH, innerAt)
  checkShape(bytes[1]!, memberCount, online)
  const high = view.getUint32(82)
  if (high > 0x1fffff) fail('FANOUT_FIELD', 'timestamp beyond 2^53 − 1')
  return {
    width: bytes[1]!,
    groupId: bytes.slice(2, 34),
    origin: bytes.slice(34, 66),
    messageId: bytes.slice(66, 82),
    timestamp: high * 2 ** 32 + view.getUint32(86),
    stateVersion: view.getUint32(90),
    memberCount,
    online,
    inner: bytes.slice(innerAt + INNER_LENGTH_BYTES, signedLength),
    signed: bytes.subarray(0, signedLength),
    signature: bytes.subarray(signedLength),
    bytes,
  }
}

/** true when the origin named in the packet signed it. */
export function verifyFanoutPacket(packet: FanoutPacket, backend: CryptoBackend = nativeBackend): boolean {
  return verifyWithDomain(packet.origin, DOMAIN.groupFanout, packet.signed, packet.signature, backend)
}

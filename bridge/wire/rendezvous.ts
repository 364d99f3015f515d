import { KEY_LENGTH, OnionWireError } from './cell.js'
import { ipv4Bytes } from './relay-message.js'

/**
 * The plaintext of a rendezvous record (sealed and signed under a blinded key
 * by dht/blinded-records.ts; docs/protocol.md "Onion" → "Rendezvous records"):
 *
 *   version (1) = 1 ‖ valid until (8, ms) ‖ count n (1, 1..8)
 *   ‖ n × [ intro node key (32) ‖ IPv4 (4) ‖ port (2) ‖ intro auth key (32) ]
 *   ‖ zero padding to RENDEZVOUS_LENGTH (570)
 *
 * "This identity is reachable at these intro points until then." Integers
 * big-endian. Always padded to room for 8 intro points, so a record's size does
 * not tell a DHT node how many intro points (tunnels) its owner keeps.
 */
export const RENDEZVOUS_VERSION = 1
export const MAX_INTRO_POINTS = 8
const HEADER_LENGTH = 10
const INTRO_LENGTH = KEY_LENGTH + 4 + 2 + KEY_LENGTH
export const RENDEZVOUS_LENGTH = HEADER_LENGTH + MAX_INTRO_POINTS * INTRO_LENGTH

export interface IntroPointInfo {
  /** The intro relay's node key. */
  nodeKey: Uint8Array
  host: string
  port: number
  /** The per-intro key the receiver registered its circuit under. */
  authKey: Uint8Array
}

export interface RendezvousRecord {
  validUntil: number
  introPoints: IntroPointInfo[]
}

export function encodeRendezvous(record: RendezvousRecord): Uint8Array {
  const n = record.introPoints.length
  if (n < 1 || n > MAX_INTRO_POINTS)
    throw new OnionWireError('RELAY_LENGTH', `${n} intro points; 1..${MAX_INTRO_POINTS}`)
  if (!Number.isSafeInteger(record.validUntil) || record.validUntil < 0)
    throw new OnionWireError('RELAY_FIELD', `validUntil ${record.validUntil} is not a time`)
  const out = new Uint8Array(RENDEZVOUS_LENGTH)
  const view = new DataView(out.buffer)
  out[0] = RENDEZVOUS_VERSION
  view.setBigUint64(1, BigInt(record.validUntil))
  out[9] = n
  record.introPoints.forEach((intro, i) => {
    const at = HEADER_LENGTH + i * INTRO_LENGTH
    if (intro.nodeKey.length !== KEY_LENGTH || intro.authKey.length !== KEY_LENGTH)
      throw new OnionWireError('RELAY_FIELD', 'intro keys are 32 bytes')
    if (!Number.isInteger(intro.port) || intro.port < 1 || intro.port > 0xffff)
      throw new OnionWireError('RELAY_FIELD', `port ${intro.port} is not in 1..65535`)
    out.set(intro.nodeKey, at)
    out.set(ipv4Bytes(intro.host), at + KEY_LENGTH)
    view.setUint16(at + KEY_LENGTH + 4, intro.port)
    out.set(intro.authKey, at + KEY_LENGTH + 6)
  })
  return out
}

/** Strict: known version, exact length, 1..8 intro points, non-zero ports, zero padding. */
export function decodeRendezvous(bytes: Uint8Array): RendezvousRecord {
  if (bytes.length !== RENDEZVOUS_LENGTH)
    throw new OnionWireError(
      'RELAY_LENGTH',
      `rendezvous record of ${bytes.length} bytes; it must be ${RENDEZVOUS_LENGTH}`,
    )
  if (bytes[0] !== RENDEZVOUS_VERSION)
    throw new OnionWireError('RELAY_FIELD', `unknown rendezvous record version ${bytes[0]}`)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const validUntil = view.getBigUint64(1)
  if (validUntil > BigInt(Number.MAX_SAFE_INTEGER))
    throw new OnionWireError('RELAY_FIELD', 'validUntil out of range')
  const n = bytes[9]!
  if (n < 1 || n > MAX_INTRO_POINTS)
    throw new OnionWireError('RELAY_LENGTH', `${n} intro points; 1..${MAX_INTRO_POINTS}`)
  if (bytes.subarray(HEADER_LENGTH + n * INTRO_LENGTH).some((b) => b !== 0))
    throw new OnionWireError('RELAY_FIELD', 'rendezvous record padding is not zero')
  const introPoints: IntroPointInfo[] = []
  for (let i = 0; i < n; i++) {
    const at = HEADER_LENGTH + i * INTRO_LENGTH
    const port = view.getUint16(at + KEY_LENGTH + 4)
    if (port === 0) throw new OnionWireError('RELAY_FIELD', 'intro point port 0')
    introPoints.push({
      nodeKey: bytes.slice(at, at + KEY_LENGTH),
      host: [...bytes.subarray(at + KEY_LENGTH, at + KEY_LENGTH + 4)].join('.'),
      port,
      authKey: bytes.slice(at + KEY_LENGTH + 6, at + INTRO_LENGTH),
    })
  }
  return { validUntil: Number(validUntil), introPoints }
}

import type { CryptoBackend } from '../crypto/backend.js'
import { defaultBackend } from '../crypto/default-backend.js'
import { DOMAIN } from '../crypto/domains.js'
import { signWithDomain, verifyWithDomain } from '../crypto/sign.js'
import { ParanoimError } from '../errors.js'

/**
 * A relay's signed node descriptor, served over the overlay to whoever found
 * the relay through the DHT:
 *
 *   magic "PIMD" (4) ‖ version (1) = 1 ‖ node key (32, Ed25519)
 *   ‖ protocol version (2) ‖ capabilities (4, bit set) ‖ published at (8, ms)
 *   ‖ expires at (8, ms) ‖ endpoint count n (1, 1..8)
 *   ‖ n × [ family (1) = 4 ‖ IPv4 (4) ‖ port (2) ]
 *   ‖ signature (64) = Ed25519(node key, len ‖ "paranoim/v1/node-descriptor" ‖ every byte before it)
 *
 * Integers big-endian. A descriptor whose signature does not verify is
 * refused by the decoder itself: nothing unsigned ever leaves this file.
 */
export const DESCRIPTOR_MAGIC = Uint8Array.of(0x50, 0x49, 0x4d, 0x44) // "PIMD"
export const DESCRIPTOR_VERSION = 1
const FIXED_LENGTH = 60
const ENDPOINT_LENGTH = 7
const SIGNATURE_LENGTH = 64
export const MAX_DESCRIPTOR_ENDPOINTS = 8
export const MAX_DESCRIPTOR_LENGTH =
  FIXED_LENGTH + MAX_DESCRIPTOR_ENDPOINTS * ENDPOINT_LENGTH + SIGNATURE_LENGTH
const FAMILY_IPV4 = 4

/** Bits of `capabilities`. */
export const Capability = {
  relay: 1,
  introPoint: 2,
  mailbox: 4,
} as const

export interface DescriptorEndpoint {
  host: string
  port: number
}

export interface DescriptorFields {
  nodeKey: Uint8Array
  protocolVersion: number
  capabilities: number
  publishedAt: number
  expiresAt: number
  endpoints: DescriptorEndpoint[]
}

export interface NodeDescriptor extends DescriptorFields {
  /** The exact bytes received, for re-serving or caching. */
  bytes: Uint8Array
}

export type DescriptorErrorCode =
  | 'DESCRIPTOR_LENGTH'
  | 'DESCRIPTOR_MAGIC'
  | 'DESCRIPTOR_VERSION'
  | 'DESCRIPTOR_ENDPOINT'
  | 'DESCRIPTOR_FIELD'
  | 'DESCRIPTOR_SIGNATURE'

export class DescriptorError extends ParanoimError {
  declare readonly code: DescriptorErrorCode

  constructor(code: DescriptorErrorCode, message: string) {
    super(code, message)
  }
}

export function signDescriptor(
  fields: DescriptorFields,
  nodeSeed: Uint8Array,
  backend: CryptoBackend = defaultBackend,
): Uint8Array {
  const unsigned = encodeUnsigned(fields)
  const signature = signWithDomain(nodeSeed, DOMAIN.nodeDescriptor, unsigned, backend)
  const out = new Uint8Array(unsigned.length + SIGNATURE_LENGTH)
  out.set(unsigned)
  out.set(signature, unsigned.length)
  return out
}

/** Strict decode and signature check; throws DescriptorError. Expiry is judged by the caller's clock. */
export function decodeDescriptor(bytes: Uint8Array, backend: CryptoBackend = defaultBackend): NodeDescriptor {
  if (
    bytes.length < FIXED_LENGTH + ENDPOINT_LENGTH + SIGNATURE_LENGTH ||
    bytes.length > MAX_DESCRIPTOR_LENGTH
  ) {
    throw new DescriptorError('DESCRIPTOR_LENGTH', `descriptor of ${bytes.length} bytes`)
  }
  if (!DESCRIPTOR_MAGIC.every((byte, i) => bytes[i] === byte)) {
    throw new DescriptorError('DESCRIPTOR_MAGIC', 'not a node descriptor')
  }
  if (bytes[4] !== DESCRIPTOR_VERSION) throw new DescriptorError('DESCRIPTOR_VERSION', `version ${bytes[4]}`)
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const count = bytes[59]!
  if (count < 1 || count > MAX_DESCRIPTOR_ENDPOINTS) {
    throw new DescriptorError('DESCRIPTOR_ENDPOINT', `${count} endpoints (1 to ${MAX_DESCRIPTOR_ENDPOINTS})`)
  }
  const signedLength = FIXED_LENGTH + count * ENDPOINT_LENGTH
  if (bytes.length !== signedLength + SIGNATURE_LENGTH) {
    throw new DescriptorError('DESCRIPTOR_LENGTH', `${bytes.length} bytes for ${count} endpoints`)
  }
  const nodeKey = bytes.slice(5, 37)
  const unsigned = bytes.subarray(0, signedLength)
  if (!verifyWithDomain(nodeKey, DOMAIN.nodeDescriptor, unsigned, bytes.subarray(signedLength), backend)) {
    throw new DescriptorError('DESCRIPTOR_SIGNATURE', 'descriptor signature does not verify')
  }
  const endpoints: DescriptorEndpoint[] = []
  for (let i = 0, at = FIXED_LENGTH; i < count; i++, at += ENDPOINT_LENGTH) {
    if (bytes[at] !== FAMILY_IPV4)
      throw new DescriptorError('DESCRIPTOR_ENDPOINT', `address family ${bytes[at]}`)
    const port = view.getUint16(at + 5)
    if (port === 0) throw new DescriptorError('DESCRIPTOR_ENDPOINT', 'port 0')
    endpoints.push({ host: bytes.subarray(at + 1, at + 5).join('.'), port })
  }
  const publishedAt = readTime(view, 43)
  const expiresAt = readTime(view, 51)
  if (expiresAt <= publishedAt)
    throw new DescriptorError('DESCRIPTOR_FIELD', 'expires before it was published')
  return {
    nodeKey,
    protocolVersion: view.getUint16(37),
    capabilities: view.getUint32(39),
    publishedAt,
    expiresAt,
    endpoints,
    bytes: bytes.slice(),
  }
}

function encodeUnsigned(fields: DescriptorFields): Uint8Array {
  const { endpoints } = fields
  if (fields.nodeKey.length !== 32) throw new DescriptorError('DESCRIPTOR_FIELD', 'node key must be 32 bytes')
  if (endpoints.length < 1 || endpoints.length > MAX_DESCRIPTOR_ENDPOINTS) {
    throw new DescriptorError(
      'DESCRIPTOR_ENDPOINT',
      `${endpoints.length} endpoints (1 to ${MAX_DESCRIPTOR_ENDPOINTS})`,
    )
  }
  checkInteger('protocolVersion', fields.protocolVersion, 0xffff)
  checkInteger('capabilities', fields.capabilities, 0xffffffff)
  checkInteger('publishedAt', fields.publishedAt, Number.MAX_SAFE_INTEGER)
  checkInteger('expiresAt', fields.expiresAt, Number.MAX_SAFE_INTEGER)
  const out = new Uint8Array(FIXED_LENGTH + endpoints.length * ENDPOINT_LENGTH)
  const view = new DataView(out.buffer)
  out.set(DESCRIPTOR_MAGIC, 0)
  out[4] = DESCRIPTOR_VERSION
  out.set(fields.nodeKey, 5)
  view.setUint16(37, fields.protocolVersion)
  view.setUint32(39, fields.capabilities)
  view.setBigUint64(43, BigInt(fields.publishedAt))
  view.setBigUint64(51, BigInt(fields.expiresAt))
  out[59] = endpoints.length
  endpoints.forEach((endpoint, i) => {
    const at = FIXED_LENGTH + i * ENDPOINT_LENGTH
    out[at] = FAMILY_IPV4
    out.set(parseIpv4(endpoint.host), at + 1)
    checkInteger('port', endpoint.port, 0xffff)
    view.setUint16(at + 5, endpoint.port)
  })
  return out
}

function parseIpv4(host: string): Uint8Array {
  const parts = host.split('.')
  const octets = parts.map((p) => (/^(0|[1-9][0-9]{0,2})$/.test(p) ? Number(p) : 256))
  if (octets.length !== 4 || octets.some((o) => o > 255)) {
    throw new DescriptorError('DESCRIPTOR_ENDPOINT', `not an IPv4 address: ${host}`)
  }
  return Uint8Array.from(octets)
}

function readTime(view: DataView, at: number): number {
  const value = view.getBigUint64(at)
  if (value > BigInt(Number.MAX_SAFE_INTEGER))
    throw new DescriptorError('DESCRIPTOR_FIELD', 'time out of range')
  return Number(value)
}

function checkInteger(name: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new DescriptorError('DESCRIPTOR_FIELD', `${name} must be an integer in [0, ${max}], got ${value}`)
  }
}

import { MAX_DESCRIPTOR_LENGTH } from './descriptor.js'
import { WireError } from './errors.js'

/**
 * Overlay packets (docs/protocol.md "Network" → "Links"). Five datagram shapes,
 * told apart by the receiver alone: a transport packet, a handshake response
 * and a descriptor response begin with an id the receiver itself chose; a
 * handshake initiation and a descriptor request begin with the sender's
 * ephemeral key and each has its own fixed size. No shape ever begins with
 * 0x64, the first byte of every KRPC datagram.
 */

export const KRPC_FIRST_BYTE = 0x64
export const LINK_ID_LENGTH = 4
export const KEY_LENGTH = 32
export const TAG_LENGTH = 16
export const COUNTER_LENGTH = 8
export const RESUME_TAG_LENGTH = 16

export const INITIATION_PAYLOAD_LENGTH = 48
/** ephemeral ‖ sealed(initiator id ‖ resume id ‖ resume tag ‖ zero padding). */
export const INITIATION_LENGTH = KEY_LENGTH + INITIATION_PAYLOAD_LENGTH + TAG_LENGTH
export const RESPONSE_PAYLOAD_LENGTH = LINK_ID_LENGTH
/** receiver id ‖ ephemeral ‖ sealed(responder id): always smaller than the initiation it answers. */
export const RESPONSE_LENGTH = LINK_ID_LENGTH + KEY_LENGTH + RESPONSE_PAYLOAD_LENGTH + TAG_LENGTH
export const TRANSPORT_HEADER_LENGTH = LINK_ID_LENGTH + COUNTER_LENGTH
/** A keepalive: header and the tag of an empty plaintext. */
export const TRANSPORT_MIN_LENGTH = TRANSPORT_HEADER_LENGTH + TAG_LENGTH
/** Every overlay datagram fits 1280 bytes, the smallest MTU of IPv6, so no path needs to fragment it. */
export const MAX_DATAGRAM_LENGTH = 1280
/** The largest payload `link.send` accepts: a datagram minus header, tag and the message type byte. */
export const MAX_LINK_PAYLOAD = MAX_DATAGRAM_LENGTH - TRANSPORT_MIN_LENGTH - 1

/** A descriptor answer's plaintext: length (u16) ‖ descriptor ‖ zero padding, so every answer has one size. */
export const DESCRIPTOR_PAYLOAD_LENGTH = 2 + MAX_DESCRIPTOR_LENGTH
/** receiver id ‖ ephemeral ‖ sealed(static) ‖ sealed(descriptor payload). */
export const DESCRIPTOR_RESPONSE_LENGTH =
  LINK_ID_LENGTH + KEY_LENGTH + KEY_LENGTH + TAG_LENGTH + DESCRIPTOR_PAYLOAD_LENGTH + TAG_LENGTH
/** ephemeral ‖ requester id ‖ zero padding: as large as the answer, so answering never amplifies. */
export const DESCRIPTOR_REQUEST_LENGTH = DESCRIPTOR_RESPONSE_LENGTH

export const LINK_MESSAGE = { data: 0x01, close: 0x02 } as const

export interface Initiation {
  ephemeral: Uint8Array
  sealedPayload: Uint8Array
}

export interface InitiationPayload {
  initiatorId: number
  /** 0 for a new link; else the responder's id of the link this handshake rekeys. */
  resumeId: number
  resumeTag: Uint8Array
}

export interface Response {
  receiverId: number
  ephemeral: Uint8Array
  sealedPayload: Uint8Array
}

export interface Transport {
  receiverId: number
  counter: number
  sealed: Uint8Array
}

export interface DescriptorRequest {
  ephemeral: Uint8Array
  requesterId: number
  /** Everything after the ephemeral key: the NX message 1 payload (hashed by both sides). */
  payload: Uint8Array
}

export interface DescriptorResponse {
  receiverId: number
  ephemeral: Uint8Array
  sealedStatic: Uint8Array
  sealedPayload: Uint8Array
}

export type LinkMessage = { type: 'keepalive' } | { type: 'data'; payload: Uint8Array } | { type: 'close' }

/** A link id is a uint32 (big-endian on the wire), never 0 and never with 0x64 as its first byte. */
export function isValidLinkId(id: number): boolean {
  return Number.isInteger(id) && id > 0 && id <= 0xffffffff && id >>> 24 !== KRPC_FIRST_BYTE
}

const view = (bytes: Uint8Array): DataView => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)

function expectLength(bytes: Uint8Array, min: number, max: number, what: string): void {
  if (bytes.length < min || bytes.length > max) {
    const wanted = min === max ? `${min}` : `${min}..${max}`
    throw new WireError('WIRE_LENGTH', `${what}: expected ${wanted} bytes, got ${bytes.length}`)
  }
}

function readLinkId(bytes: Uint8Array, offset: number, what: string): number {
  const id = view(bytes).getUint32(offset)
  if (!isValidLinkId(id)) throw new WireError('WIRE_LINK_ID', `${what}: invalid link id ${id}`)
  return id
}

function writeLinkId(out: Uint8Array, offset: number, id: number): void {
  if (!isValidLinkId(id)) throw new WireError('WIRE_LINK_ID', `invalid link id ${id}`)
  view(out).setUint32(offset, id)
}

function assertNotKrpc(bytes: Uint8Array, what: string): void {
  if (bytes[0] === KRPC_FIRST_BYTE) throw new WireError('WIRE_FIRST_BYTE', `${what} begins with 0x64`)
}

/** The first four bytes as a link id candidate, or undefined when the datagram is shorter. */
export function peekReceiverId(packet: Uint8Array): number | undefined {
  return packet.length < LINK_ID_LENGTH ? undefined : view(packet).getUint32(0)
}

export function encodeInitiation(ephemeral: Uint8Array, sealedPayload: Uint8Array): Uint8Array {
  expectLength(ephemeral, KEY_LENGTH, KEY_LENGTH, 'initiation ephemeral')
  expectLength(
    sealedPayload,
    INITIATION_PAYLOAD_LENGTH + TAG_LENGTH,
    INITIATION_PAYLOAD_LENGTH + TAG_LENGTH,
    'sealed',
  )
  assertNotKrpc(ephemeral, 'initiation ephemeral')
  const out = new Uint8Array(INITIATION_LENGTH)
  out.set(ephemeral, 0)
  out.set(sealedPayload, KEY_LENGTH)
  return out
}

export function decodeInitiation(packet: Uint8Array): Initiation {
  expectLength(packet, INITIATION_LENGTH, INITIATION_LENGTH, 'initiation')
  assertNotKrpc(packet, 'initiation')
  return { ephemeral: packet.subarray(0, KEY_LENGTH), sealedPayload: packet.subarray(KEY_LENGTH) }
}

export function encodeInitiationPayload(payload: InitiationPayload): Uint8Array {
  const out = new Uint8Array(INITIATION_PAYLOAD_LENGTH)
  writeLinkId(out, 0, payload.initiatorId)
  if (payload.resumeId !== 0) writeLinkId(out, 4, payload.resumeId)
  expectLength(payload.resumeTag, RESUME_TAG_LENGTH, RESUME_TAG_LENGTH, 'resume tag')
  out.set(payload.resumeTag, 8)
  return out
}

export function decodeInitiationPayload(plain: Uint8Array): InitiationPayload {
  expectLength(plain, INITIATION_PAYLOAD_LENGTH, INITIATION_PAYLOAD_LENGTH, 'initiation payload')
  const initiatorId = readLinkId(plain, 0, 'initiator id')
  const resumeId = view(plain).getUint32(4)
  const resumeTag = plain.subarray(8, 8 + RESUME_TAG_LENGTH)
  if (resumeId === 0 ? resumeTag.some((b) => b !== 0) : !isValidLinkId(resumeId)) {
    throw new WireError(
      'WIRE_LINK_ID',
      `initiation payload: invalid resume id ${resumeId} or stray resume tag`,
    )
  }
  if (plain.subarray(8 + RESUME_TAG_LENGTH).some((b) => b !== 0)) {
    throw new WireError('WIRE_PADDING', 'initiation payload: padding is not zero')
  }
  return { initiatorId, resumeId, resumeTag }
}

export function encodeResponse(
  receiverId: number,
  ephemeral: Uint8Array,
  sealedPayload: Uint8Array,
): Uint8Array {
  expectLength(ephemeral, KEY_LENGTH, KEY_LENGTH, 'response ephemeral')
  expectLength(
    sealedPayload,
    RESPONSE_PAYLOAD_LENGTH + TAG_LENGTH,
    RESPONSE_PAYLOAD_LENGTH + TAG_LENGTH,
    'sealed',
  )
  const out = new Uint8Array(RESPONSE_LENGTH)
  writeLinkId(out, 0, receiverId)
  out.set(ephemeral, LINK_ID_LENGTH)
  out.set(sealedPayload, LINK_ID_LENGTH + KEY_LENGTH)
  return out
}

export function decodeResponse(packet: Uint8Array): Response {
  expectLength(packet, RESPONSE_LENGTH, RESPONSE_LENGTH, 'response')
  return {
    receiverId: readLinkId(packet, 0, 'response receiver id'),
    ephemeral: packet.subarray(LINK_ID_LENGTH, LINK_ID_LENGTH + KEY_LENGTH),
    sealedPayload: packet.subarray(LINK_ID_LENGTH + KEY_LENGTH),
  }
}

export function encodeResponsePayload(responderId: number): Uint8Array {
  const out = new Uint8Array(RESPONSE_PAYLOAD_LENGTH)
  writeLinkId(out, 0, responderId)
  return out
}

export function decodeResponsePayload(plain: Uint8Array): number {
  expectLength(plain, RESPONSE_PAYLOAD_LENGTH, RESPONSE_PAYLOAD_LENGTH, 'response payload')
  return readLinkId(plain, 0, 'responder id')
}

/** The 8 counter bytes, little-endian: exactly the last 8 bytes of the AEAD nonce. */
export function encodeTransportHeader(receiverId: number, counter: number): Uint8Array {
  if (!Number.isSafeInteger(counter) || counter < 0)
    throw new WireError('WIRE_COUNTER', `bad counter ${counter}`)
  const out = new Uint8Array(TRANSPORT_HEADER_LENGTH)
  writeLinkId(out, 0, receiverId)
  view(out).setBigUint64(LINK_ID_LENGTH, BigInt(counter), true)
  return out
}

export function decodeTransport(packet: Uint8Array): Transport {
  expectLength(packet, TRANSPORT_MIN_LENGTH, MAX_DATAGRAM_LENGTH, 'transport packet')
  const receiverId = readLinkId(packet, 0, 'transport receiver id')
  const low = view(packet).getUint32(LINK_ID_LENGTH, true)
  const high = view(packet).getUint32(LINK_ID_LENGTH + 4, true)
  if (high > 0x1fffff) throw new WireError('WIRE_COUNTER', 'transport counter beyond 2^53 - 1')
  return { receiverId, counter: high * 2 ** 32 + low, sealed: packet.subarray(TRANSPORT_HEADER_LENGTH) }
}

export function encodeLinkMessage(message: LinkMessage): Uint8Array {
  switch (message.type) {
    case 'keepalive':
      return new Uint8Array(0)
    case 'close':
      return Uint8Array.of(LINK_MESSAGE.close)
    case 'data': {
      expectLength(message.payload, 0, MAX_LINK_PAYLOAD, 'link payload')
      const out = new Uint8Array(1 + message.payload.length)
      out[0] = LINK_MESSAGE.data
      out.set(message.payload, 1)
      return out
    }
  }
}

export function decodeLinkMessage(plain: Uint8Array): LinkMessage {
  if (plain.length === 0) return { type: 'keepalive' }
  expectLength(plain, 1, MAX_LINK_PAYLOAD + 1, 'link message')
  if (plain[0] === LINK_MESSAGE.data) return { type: 'data', payload: plain.subarray(1) }
  if (plain[0] === LINK_MESSAGE.close) {
    expectLength(plain, 1, 1, 'close message')
    return { type: 'close' }
  }
  throw new WireError('WIRE_TYPE', `unknown link message type ${plain[0]}`)
}

/** The NX message 1 payload: requester id ‖ zero padding up to DESCRIPTOR_REQUEST_LENGTH. */
export function encodeDescriptorRequestPayload(requesterId: number): Uint8Array {
  const out = new Uint8Array(DESCRIPTOR_REQUEST_LENGTH - KEY_LENGTH)
  writeLinkId(out, 0, requesterId)
  return out
}

export function encodeDescriptorRequest(ephemeral: Uint8Array, payload: Uint8Array): Uint8Array {
  expectLength(ephemeral, KEY_LENGTH, KEY_LENGTH, 'descriptor request ephemeral')
  expectLength(
    payload,
    DESCRIPTOR_REQUEST_LENGTH - KEY_LENGTH,
    DESCRIPTOR_REQUEST_LENGTH - KEY_LENGTH,
    'descriptor request payload',
  )
  assertNotKrpc(ephemeral, 'descriptor request ephemeral')
  const out = new Uint8Array(DESCRIPTOR_REQUEST_LENGTH)
  out.set(ephemeral, 0)
  out.set(payload, KEY_LENGTH)
  return out
}

export function decodeDescriptorRequest(packet: Uint8Array): DescriptorRequest {
  expectLength(packet, DESCRIPTOR_REQUEST_LENGTH, DESCRIPTOR_REQUEST_LENGTH, 'descriptor request')
  assertNotKrpc(packet, 'descriptor request')
  const payload = packet.subarray(KEY_LENGTH)
  const requesterId = readLinkId(payload, 0, 'requester id')
  if (payload.subarray(LINK_ID_LENGTH).some((b) => b !== 0)) {
    throw new WireError('WIRE_PADDING', 'descriptor request: padding is not zero')
  }
  return { ephemeral: packet.subarray(0, KEY_LENGTH), requesterId, payload }
}

export function encodeDescriptorPayload(descriptor: Uint8Array): Uint8Array {
  expectLength(descriptor, 1, MAX_DESCRIPTOR_LENGTH, 'descriptor')
  const out = new Uint8Array(DESCRIPTOR_PAYLOAD_LENGTH)
  view(out).setUint16(0, descriptor.length)
  out.set(descriptor, 2)
  return out
}

/** The descriptor bytes, not yet decoded (wire/descriptor.ts checks them and their signature). */
export function decodeDescriptorPayload(plain: Uint8Array): Uint8Array {
  expectLength(plain, DESCRIPTOR_PAYLOAD_LENGTH, DESCRIPTOR_PAYLOAD_LENGTH, 'descriptor payload')
  const length = view(plain).getUint16(0)
  if (length < 1 || length > MAX_DESCRIPTOR_LENGTH) {
    throw new WireError('WIRE_LENGTH', `descriptor payload: descriptor of ${length} bytes`)
  }
  if (plain.subarray(2 + length).some((b) => b !== 0)) {
    throw new WireError('WIRE_PADDING', 'descriptor payload: padding is not zero')
  }
  return plain.subarray(2, 2 + length)
}

export function encodeDescriptorResponse(response: DescriptorResponse): Uint8Array {
  expectLength(response.ephemeral, KEY_LENGTH, KEY_LENGTH, 'descriptor response ephemeral')
  expectLength(response.sealedStatic, KEY_LENGTH + TAG_LENGTH, KEY_LENGTH + TAG_LENGTH, 'sealed static')
  expectLength(
    response.sealedPayload,
    DESCRIPTOR_PAYLOAD_LENGTH + TAG_LENGTH,
    DESCRIPTOR_PAYLOAD_LENGTH + TAG_LENGTH,
    'sealed descriptor payload',
  )
  const out = new Uint8Array(DESCRIPTOR_RESPONSE_LENGTH)
  writeLinkId(out, 0, response.receiverId)
  out.set(response.ephemeral, LINK_ID_LENGTH)
  out.set(response.sealedStatic, LINK_ID_LENGTH + KEY_LENGTH)
  out.set(response.sealedPayload, LINK_ID_LENGTH + 2 * KEY_LENGTH + TAG_LENGTH)
  return out
}

export function decodeDescriptorResponse(packet: Uint8Array): DescriptorResponse {
  expectLength(packet, DESCRIPTOR_RESPONSE_LENGTH, DESCRIPTOR_RESPONSE_LENGTH, 'descriptor response')
  const staticAt = LINK_ID_LENGTH + KEY_LENGTH
  const payloadAt = staticAt + KEY_LENGTH + TAG_LENGTH
  return {
    receiverId: readLinkId(packet, 0, 'descriptor response receiver id'),
    ephemeral: packet.subarray(LINK_ID_LENGTH, staticAt),
    sealedStatic: packet.subarray(staticAt, payloadAt),
    sealedPayload: packet.subarray(payloadAt),
  }
}

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { CryptoBackend } from '../../bridge/crypto/backend.js'
import { identityFromSeed } from '../../bridge/crypto/identity.js'
import { nativeBackend } from '../../bridge/crypto/native.js'
import { nobleBackend } from '../../bridge/crypto/noble.js'
import {
  initiatorFinish,
  initiatorStart,
  LINK_PROLOGUE,
  responderAccept,
  responderReply,
} from '../../bridge/net/noise-nk.js'
import { nxAnswer, nxRead, nxRequest } from '../../bridge/net/noise-nx.js'
import { noiseNonce } from '../../bridge/net/noise-symmetric.js'
import { Session } from '../../bridge/net/session.js'
import { signDescriptor } from '../../bridge/wire/descriptor.js'
import { WireError } from '../../bridge/wire/errors.js'
import {
  DESCRIPTOR_PAYLOAD_LENGTH,
  DESCRIPTOR_REQUEST_LENGTH,
  DESCRIPTOR_RESPONSE_LENGTH,
  decodeDescriptorPayload,
  decodeDescriptorRequest,
  decodeDescriptorResponse,
  decodeInitiation,
  decodeInitiationPayload,
  decodeLinkMessage,
  decodeResponse,
  decodeResponsePayload,
  decodeTransport,
  encodeDescriptorPayload,
  encodeDescriptorRequest,
  encodeDescriptorRequestPayload,
  encodeDescriptorResponse,
  encodeInitiation,
  encodeInitiationPayload,
  encodeLinkMessage,
  encodeResponse,
  encodeResponsePayload,
  INITIATION_LENGTH,
  MAX_DATAGRAM_LENGTH,
  RESPONSE_LENGTH,
} from '../../bridge/wire/link.js'

const hex = (h: string) => new Uint8Array(Buffer.from(h.replace(/\s+/g, ''), 'hex'))
const toHex = (u: Uint8Array) => Buffer.from(u).toString('hex')
const seq = (start: number) => Uint8Array.from({ length: 32 }, (_, i) => start + i)
const text = (s: string) => new TextEncoder().encode(s)

const wireError = (code: string) => (e: unknown) => e instanceof WireError && e.code === code

for (const backend of [nativeBackend, nobleBackend] as CryptoBackend[]) {
  describe(`Noise NK and NX (${backend.name} backend)`, () => {
    it('reproduces the Cacophony vector Noise_NK_25519_ChaChaPoly_SHA256 (noise-c tests/vector/cacophony.txt)', () => {
      const prologue = hex('4a6f686e2047616c74') // "John Galt"
      const responderStatic = hex('4a3acbfdb163dec651dfa3194dece676d437029c62a408b4c5ea9114246e4893')
      const responderPublic = backend.x25519PublicKey(responderStatic)
      assert.equal(toHex(responderPublic), '31e0303fd6418d2f8c0e78b91f22e8caed0fbe48656dcf4767e4834f701b8f62')
      const m1 = initiatorStart(
        backend,
        responderPublic,
        hex('893e28b9dc6ca8d611ab664754b8ceb7bac5117349a4439a6b0569da977c464a'),
        hex('4c756477696720766f6e204d69736573'),
        prologue,
      )
      assert.equal(
        toHex(m1.ephemeral) + toHex(m1.sealedPayload),
        'ca35def5ae56cec33dc2036731ab14896bc4c75dbb07a61f879f8e3afa4c7944' +
          '8134d00711fdb390a0d178fa008f6d47d2891e5ea18ae136c3b4c23ac384efb0',
      )
      const read = responderAccept(
        backend,
        responderStatic,
        responderPublic,
        m1.ephemeral,
        m1.sealedPayload,
        prologue,
      )
      assert.equal(toHex(read.payload), '4c756477696720766f6e204d69736573')
      const m2 = responderReply(
        backend,
        read.state,
        hex('bbdb4cdbd309f1a1f2e1456967fe288cadd6f712d65dc7b7793d5e63da6b375b'),
        hex('4d757272617920526f746862617264'),
      )
      assert.equal(
        toHex(m2.ephemeral) + toHex(m2.sealedPayload),
        '95ebc60d2b1fa672c1f46a8aa265ef51bfe38e7ccb39ec5be34069f144808843' +
          '8ea16e3701bc0d77744f117bee22451c9afa7f4cdbbcff00c04a8ee0913c88',
      )
      const done = initiatorFinish(backend, m1.state, m2.ephemeral, m2.sealedPayload)
      assert.equal(toHex(done.payload), '4d757272617920526f746862617264')
      const seal = (key: Uint8Array, n: number, p: string) =>
        toHex(backend.chacha20poly1305Seal(key, noiseNonce(n), hex(p)))
      assert.equal(
        seal(done.keys.sendKey, 0, '462e20412e20486179656b'),
        'a62de29ce27cb80245d440d986ed816c156e9d757d7008df2198b0',
      )
      assert.equal(
        seal(m2.keys.sendKey, 0, '4361726c204d656e676572'),
        '174a35f11c689f4530d7208618e0564ae12f2f50ba8eb4df5382ff',
      )
      assert.equal(
        seal(done.keys.sendKey, 1, '4a65616e2d426170746973746520536179'),
        '337e475ebb8eae60f91974c4e455a5af38d1d8628d1803b160d60442874b0a1777',
      )
      assert.deepEqual(done.keys.handshakeHash, m2.keys.handshakeHash)
      assert.deepEqual(done.keys.resumeKey, m2.keys.resumeKey)
    })

    it('produces the link vectors of docs/protocol.md byte for byte', () => {
      const node = identityFromSeed(seq(0x00), backend)
      assert.equal(toHex(node.publicKey), '03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8')
      assert.equal(
        toHex(node.x25519PublicKey),
        '4701d08488451f545a409fb58ae3e58581ca40ac3f7f114698cd71deac73ca01',
      )

      const payload1 = encodeInitiationPayload({
        initiatorId: 0x0a0b0c0d,
        resumeId: 0,
        resumeTag: new Uint8Array(16),
      })
      const start = initiatorStart(backend, node.x25519PublicKey, seq(0x20), payload1)
      const initiation = encodeInitiation(start.ephemeral, start.sealedPayload)
      assert.equal(
        toHex(initiation),
        '358072d6365880d1aeea329adf9121383851ed21a28e3b75e965d0d2cd166254' +
          '3d6764ad1cd52ffa509d1f65c31729e7b7cf1ef68c31e5eafcb286de10c311a7e06f8d837873f1e1f09bc91c2a08eea2' +
          '88a712b08672718a164a9208561725e1',
      )

      const accept = responderAccept(
        backend,
        node.x25519PrivateKey,
        node.x25519PublicKey,
        decodeInitiation(initiation).ephemeral,
        decodeInitiation(initiation).sealedPayload,
      )
      assert.deepEqual(decodeInitiationPayload(accept.payload), {
        initiatorId: 0x0a0b0c0d,
        resumeId: 0,
        resumeTag: new Uint8Array(16),
      })
      const reply = responderReply(backend, accept.state, seq(0x40), encodeResponsePayload(0x11223344))
      const response = encodeResponse(0x0a0b0c0d, reply.ephemeral, reply.sealedPayload)
      assert.equal(
        toHex(response),
        '0a0b0c0d' +
          '79a631eede1bf9c98f12032cdeadd0e7a079398fc786b88cc846ec89af85a51a' +
          '9783f37f83cf9dca24c938e1175327116c0cc456',
      )

      const decoded = decodeResponse(response)
      const done = initiatorFinish(backend, start.state, decoded.ephemeral, decoded.sealedPayload)
      assert.equal(decodeResponsePayload(done.payload), 0x11223344)
      assert.equal(
        toHex(done.keys.sendKey),
        '32767022274cb51ce67cbf0e5380c2ac401e00744caca616ac7c7a272d96ac50',
      )
      assert.equal(
        toHex(done.keys.receiveKey),
        '392aa15cc23c19352abd47423c733a3a4a51b650fc8bb0e1afe5297659b42a4e',
      )
      assert.equal(
        toHex(done.keys.resumeKey),
        'b86ab9d98bbfddc7920f664fad7ff1b5df613b5b0dce73832a0b4c4c1cbfa854',
      )
      assert.equal(
        toHex(done.keys.handshakeHash),
        '583d741e1ec6e24a036d052ad447b9ca1d316277515280065c9497febc7065b1',
      )

      const initiator = new Session(backend, 0x0a0b0c0d, 0x11223344, done.keys, 0, 1024)
      const responder = new Session(backend, 0x11223344, 0x0a0b0c0d, reply.keys, 0, 1024)
      assert.equal(
        toHex(initiator.seal(encodeLinkMessage({ type: 'keepalive' }))),
        '11223344' + '0000000000000000' + '3ede87441e0f86eabfe8b624eb1db358',
      )
      const hello = initiator.seal(encodeLinkMessage({ type: 'data', payload: text('hello') }))
      assert.equal(
        toHex(hello),
        '11223344' + '0100000000000000' + '5c847e8699d83edddf3b3c91baf187e23162aaf413f1',
      )
      assert.equal(
        toHex(responder.seal(encodeLinkMessage({ type: 'data', payload: text('world') }))),
        '0a0b0c0d' + '0000000000000000' + '09dfe94c54a19a0d3255397d3d283858a20f45c5b4e1',
      )
      assert.equal(
        toHex(responder.seal(encodeLinkMessage({ type: 'close' }))),
        '0a0b0c0d' + '0100000000000000' + 'e94ee48dff1b53b598391b00b964d5f81e',
      )
      const opened = decodeLinkMessage(responder.open(decodeTransport(hello), hello))
      assert.deepEqual(opened, { type: 'data', payload: text('hello') })
      assert.equal(
        toHex(backend.hmacSha256(done.keys.resumeKey, seq(0x60)).subarray(0, 16)),
        'a6662082cf6f98c5d89d123dfb2ed0b6',
      )
    })

    it('produces the descriptor request vectors of docs/protocol.md byte for byte', () => {
      const node = identityFromSeed(seq(0x00), backend)
      const descriptor = signDescriptor(
        {
          nodeKey: node.publicKey,
          protocolVersion: 1,
          capabilities: 3,
          publishedAt: 1_700_000_000_000,
          expiresAt: 1_700_010_800_000,
          endpoints: [{ host: '192.0.2.7', port: 6881 }],
        },
        node.seed,
        backend,
      )
      const payload = encodeDescriptorRequestPayload(0x0a0b0c0d)
      const request = nxRequest(backend, seq(0x20), payload, LINK_PROLOGUE)
      const requestBytes = encodeDescriptorRequest(request.ephemeral, payload)
      assert.equal(
        toHex(requestBytes),
        '358072d6365880d1aeea329adf9121383851ed21a28e3b75e965d0d2cd166254' + '0a0b0c0d' + '00'.repeat(246),
      )
      const asked = decodeDescriptorRequest(requestBytes)
      assert.equal(asked.requesterId, 0x0a0b0c0d)
      const answer = nxAnswer(
        backend,
        node.x25519PrivateKey,
        node.x25519PublicKey,
        asked.ephemeral,
        asked.payload,
        seq(0x40),
        encodeDescriptorPayload(descriptor),
        LINK_PROLOGUE,
      )
      const response = encodeDescriptorResponse({ receiverId: asked.requesterId, ...answer })
      assert.equal(
        toHex(response),
        '0a0b0c0d79a631eede1bf9c98f12032cdeadd0e7a079398fc786b88cc846ec89' +
          'af85a51afa0ada9f82d9ab6fea78659714e16d8899fc27c55b780015b90bd025' +
          '3c6650caa8187dcec5e9d6dd9d8ba83ad68f880c45dc7e0ff60d16274387cae9' +
          'c7503d85f723339e98dbd2a1f6f32ef0f93193c536556c7493e3c3d56c626885' +
          'c16beb5c5e0adab0b91075d5eabfdc831593dddf6ccecdebdec4a1b663788a09' +
          'f30d43fc20be713be2a4e036a6a20e88d9397fc8d13bbe031fbcd8b5ac371acc' +
          '9160ded4a7e70e3b0cf9017a39a4cb6447020e76bb07f5826d84b48c2c6325e6' +
          '2c1608652ca954e1b1cc37541d9f8ca82fb5a5aac16c01fa4892869e149242c4' +
          '7b5bb6c2072915d43b3524c63be612d4fc4b6216b951ea441d0e',
      )
      assert.equal(
        toHex(answer.handshakeHash),
        '3dca6cd03b4d527a1207af4864f8bc135fed2ff3376bdd7dc50b58ed302b53c2',
      )
      const decoded = decodeDescriptorResponse(response)
      const read = nxRead(
        backend,
        request.state,
        decoded.ephemeral,
        decoded.sealedStatic,
        decoded.sealedPayload,
      )
      assert.deepEqual(read.responderStatic, node.x25519PublicKey)
      assert.deepEqual(decodeDescriptorPayload(read.payload), descriptor)
      assert.deepEqual(read.handshakeHash, answer.handshakeHash)
      const tampered = response.slice()
      tampered[50]! ^= 1
      const bad = decodeDescriptorResponse(tampered)
      assert.throws(() => nxRead(backend, request.state, bad.ephemeral, bad.sealedStatic, bad.sealedPayload))
    })
  })
}

describe('link packet decoders', () => {
  it('check lengths first', () => {
    for (const n of [0, 1, INITIATION_LENGTH - 1, INITIATION_LENGTH + 1]) {
      assert.throws(() => decodeInitiation(new Uint8Array(n).fill(1)), wireError('WIRE_LENGTH'))
    }
    for (const n of [0, RESPONSE_LENGTH - 1, RESPONSE_LENGTH + 1]) {
      assert.throws(() => decodeResponse(new Uint8Array(n).fill(1)), wireError('WIRE_LENGTH'))
    }
    for (const n of [0, 27, MAX_DATAGRAM_LENGTH + 1]) {
      assert.throws(() => decodeTransport(new Uint8Array(n).fill(1)), wireError('WIRE_LENGTH'))
    }
    assert.throws(() => decodeInitiationPayload(new Uint8Array(47)), wireError('WIRE_LENGTH'))
    assert.throws(() => decodeResponsePayload(new Uint8Array(5)), wireError('WIRE_LENGTH'))
    assert.throws(() => decodeLinkMessage(Uint8Array.of(0x02, 0)), wireError('WIRE_LENGTH'))
    for (const n of [0, DESCRIPTOR_REQUEST_LENGTH - 1, DESCRIPTOR_REQUEST_LENGTH + 1]) {
      assert.throws(() => decodeDescriptorRequest(new Uint8Array(n).fill(1)), wireError('WIRE_LENGTH'))
      assert.throws(() => decodeDescriptorResponse(new Uint8Array(n).fill(1)), wireError('WIRE_LENGTH'))
    }
    assert.throws(
      () => decodeDescriptorPayload(new Uint8Array(DESCRIPTOR_PAYLOAD_LENGTH - 1)),
      wireError('WIRE_LENGTH'),
    )
    const overlong = new Uint8Array(DESCRIPTOR_PAYLOAD_LENGTH)
    overlong.set([0x00, DESCRIPTOR_PAYLOAD_LENGTH - 1])
    assert.throws(() => decodeDescriptorPayload(overlong), wireError('WIRE_LENGTH'))
    assert.throws(
      () => decodeDescriptorPayload(new Uint8Array(DESCRIPTOR_PAYLOAD_LENGTH)),
      wireError('WIRE_LENGTH'),
    )
    assert.equal(DESCRIPTOR_RESPONSE_LENGTH, 282)
  })

  it('refuse anything that would read as KRPC, and bad link ids', () => {
    assert.throws(
      () => decodeInitiation(new Uint8Array(INITIATION_LENGTH).fill(0x64)),
      wireError('WIRE_FIRST_BYTE'),
    )
    const transport = new Uint8Array(28).fill(1)
    transport[0] = 0x64
    assert.throws(() => decodeTransport(transport), wireError('WIRE_LINK_ID'))
    assert.throws(() => decodeTransport(new Uint8Array(28)), wireError('WIRE_LINK_ID'))
    assert.throws(() => decodeResponsePayload(hex('64000001')), wireError('WIRE_LINK_ID'))
    assert.throws(
      () => encodeInitiationPayload({ initiatorId: 0x64000001, resumeId: 0, resumeTag: new Uint8Array(16) }),
      wireError('WIRE_LINK_ID'),
    )
  })

  it('refuse descriptor requests that read as KRPC, bad requester ids and non-zero padding', () => {
    const request = encodeDescriptorRequest(new Uint8Array(32).fill(1), encodeDescriptorRequestPayload(7))
    const krpc = request.slice()
    krpc[0] = 0x64
    assert.throws(() => decodeDescriptorRequest(krpc), wireError('WIRE_FIRST_BYTE'))
    const noId = request.slice()
    noId.fill(0, 32, 36)
    assert.throws(() => decodeDescriptorRequest(noId), wireError('WIRE_LINK_ID'))
    const padded = request.slice()
    padded[DESCRIPTOR_REQUEST_LENGTH - 1] = 1
    assert.throws(() => decodeDescriptorRequest(padded), wireError('WIRE_PADDING'))
    const payload = encodeDescriptorPayload(Uint8Array.of(1, 2, 3))
    payload[DESCRIPTOR_PAYLOAD_LENGTH - 1] = 1
    assert.throws(() => decodeDescriptorPayload(payload), wireError('WIRE_PADDING'))
    assert.throws(() => encodeDescriptorRequestPayload(0x64000001), wireError('WIRE_LINK_ID'))
  })

  it('refuse non-zero padding, stray resume tags and unknown message types', () => {
    const payload = encodeInitiationPayload({ initiatorId: 1, resumeId: 0, resumeTag: new Uint8Array(16) })
    const padded = payload.slice()
    padded[47] = 1
    assert.throws(() => decodeInitiationPayload(padded), wireError('WIRE_PADDING'))
    const stray = payload.slice()
    stray[8] = 1
    assert.throws(() => decodeInitiationPayload(stray), wireError('WIRE_LINK_ID'))
    assert.throws(() => decodeLinkMessage(Uint8Array.of(0x03)), wireError('WIRE_TYPE'))
  })

  it('refuse counters beyond 2^53 - 1 and read the rest little-endian', () => {
    const packet = new Uint8Array(28).fill(0)
    packet.set([0x01, 0x02, 0x03, 0x04], 0)
    packet.set([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x1f, 0x00], 4)
    assert.equal(decodeTransport(packet).counter, Number.MAX_SAFE_INTEGER)
    packet[10] = 0x20
    assert.throws(() => decodeTransport(packet), wireError('WIRE_COUNTER'))
    packet.set([0x02, 0x01, 0, 0, 0, 0, 0, 0], 4)
    assert.equal(decodeTransport(packet).counter, 0x0102)
  })
})

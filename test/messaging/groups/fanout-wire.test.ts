import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { nobleBackend } from '../../../bridge/crypto/noble.js'
import {
  decodeFanoutPacket,
  type FanoutFields,
  FanoutWireError,
  MIN_FANOUT_PACKET,
  signFanoutPacket,
  verifyFanoutPacket,
} from '../../../bridge/wire/group-fanout.js'
import { protocolHex, VECTOR_FIELDS, VECTOR_ORIGIN } from './fanout-vector.js'

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const MAX = 65536
const origin = VECTOR_ORIGIN
const fields: FanoutFields = VECTOR_FIELDS

function fanoutError(code: string) {
  return (err: unknown) => err instanceof FanoutWireError && err.code === code
}

describe('docs/protocol.md "Fan-out packets" vector', () => {
  const packet = signFanoutPacket(fields, origin)

  it('is the packet the code signs, byte for byte (both backends)', () => {
    assert.equal(protocolHex('Fan-out packet vector'), hex(packet))
    assert.deepEqual(signFanoutPacket(fields, origin, nobleBackend), packet)
  })

  it('decodes to its fields and verifies', () => {
    const decoded = decodeFanoutPacket(
      new Uint8Array(Buffer.from(protocolHex('Fan-out packet vector'), 'hex')),
      MAX,
    )
    assert.ok(verifyFanoutPacket(decoded))
    assert.ok(verifyFanoutPacket(decoded, nobleBackend))
    const { width, groupId, messageId, timestamp, stateVersion, memberCount, online, inner } = decoded
    assert.deepEqual(
      { width, groupId, messageId, timestamp, stateVersion, memberCount, online, inner },
      fields,
    )
    assert.deepEqual(decoded.origin, origin.publicKey)
  })
})

describe('fan-out packet: strict decoding', () => {
  const packet = signFanoutPacket(fields, origin)
  const patched = (at: number, ...bytes: number[]) => {
    const copy = packet.slice()
    copy.set(bytes, at)
    return copy
  }

  it('checks the length first, against the format and the caller’s limit', () => {
    assert.throws(
      () => decodeFanoutPacket(packet.subarray(0, MIN_FANOUT_PACKET - 1), MAX),
      fanoutError('FANOUT_LENGTH'),
    )
    assert.throws(() => decodeFanoutPacket(packet, packet.length - 1), fanoutError('FANOUT_LENGTH'))
    assert.throws(() => decodeFanoutPacket(packet.subarray(0, -1), MAX), fanoutError('FANOUT_LENGTH'))
    const longer = new Uint8Array(packet.length + 1)
    longer.set(packet)
    assert.throws(() => decodeFanoutPacket(longer, MAX), fanoutError('FANOUT_LENGTH'))
  })

  it('refuses an inner length that does not end at the signature, a member count the bytes cannot hold', () => {
    assert.throws(() => decodeFanoutPacket(patched(98, 0, 0, 0, 21), MAX), fanoutError('FANOUT_LENGTH'))
    assert.throws(() => decodeFanoutPacket(patched(98, 0, 0, 0, 0), MAX), fanoutError('FANOUT_LENGTH'))
    assert.throws(() => decodeFanoutPacket(patched(94, 0xff, 0xff), MAX), fanoutError('FANOUT_LENGTH'))
  })

  it('refuses an unknown version, width 1, member count 0, online bits after the last member', () => {
    assert.throws(() => decodeFanoutPacket(patched(0, 2), MAX), fanoutError('FANOUT_VERSION'))
    assert.throws(() => decodeFanoutPacket(patched(1, 1), MAX), fanoutError('FANOUT_FIELD'))
    assert.throws(() => decodeFanoutPacket(patched(94, 0, 0), MAX), fanoutError('FANOUT_LENGTH'))
    assert.throws(() => decodeFanoutPacket(patched(97, 0xd1), MAX), fanoutError('FANOUT_FIELD'))
    assert.throws(() => decodeFanoutPacket(patched(82, 0xff), MAX), fanoutError('FANOUT_FIELD'))
  })

  it('refuses to sign what it would not decode', () => {
    const bad: Partial<FanoutFields>[] = [
      { width: 1 },
      { memberCount: 0, online: new Uint8Array(0) },
      { online: new Uint8Array(1) },
      { online: Uint8Array.of(0xff, 0xff) },
      { inner: new Uint8Array(0) },
      { groupId: new Uint8Array(31) },
      { timestamp: -1 },
      { stateVersion: 2 ** 32 },
    ]
    for (const change of bad)
      assert.throws(
        () => signFanoutPacket({ ...fields, ...change }, origin),
        FanoutWireError,
        JSON.stringify(change),
      )
  })

  it('any changed byte fails the decoder or the signature', () => {
    fc.assert(
      fc.property(fc.nat(packet.length - 1), fc.integer({ min: 1, max: 255 }), (at, flip) => {
        const copy = packet.slice()
        copy[at]! ^= flip
        try {
          assert.ok(!verifyFanoutPacket(decodeFanoutPacket(copy, MAX)))
        } catch (err) {
          assert.ok(err instanceof FanoutWireError, String(err))
        }
      }),
      { numRuns: 300 },
    )
  })

  it('random bytes throw nothing but FanoutWireError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 400 }), (bytes) => {
        try {
          decodeFanoutPacket(bytes, MAX)
        } catch (err) {
          assert.ok(err instanceof FanoutWireError, String(err))
        }
      }),
      { numRuns: 500 },
    )
  })
})

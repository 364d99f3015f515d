import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { identityFromSeed } from '../../../bridge/crypto/identity.js'
import { blindedRecordKey, recordBodyKey } from '../../../bridge/dht/blinded-records.js'
import { GroupWireError } from '../../../bridge/wire/group-bytes.js'
import { decodeGroupControl, encodeGroupControl } from '../../../bridge/wire/group-control.js'
import { decodeGroupRendezvous, encodeGroupRendezvous } from '../../../bridge/wire/group-rendezvous.js'
import { backends } from '../../crypto/helpers.js'
import { protocolHex } from './fanout-vector.js'

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')
const seed = (text: string) => new Uint8Array(Buffer.from(text, 'hex'))
const group = identityFromSeed(
  seed('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f'),
).publicKey
const alice = identityFromSeed(
  seed('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60'),
).publicKey
const bob = identityFromSeed(
  seed('202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f'),
).publicKey
const record = { stateVersion: 7, name: 'vectors', admitters: [alice, bob] }

const wireError = (code: string) => (err: unknown) => err instanceof GroupWireError && err.code === code

describe('open rooms: join bodies and the rendezvous record (docs/protocol.md "Open rooms")', () => {
  it('the join request, the refusal and the record are in the document verbatim and decode back', () => {
    const request = encodeGroupControl({ type: 'join-request', group, nick: 'carol' })
    const refusal = encodeGroupControl({ type: 'join-refusal', group, reason: 'banned' })
    assert.equal(protocolHex('A join request for the nick'), hex(request))
    assert.equal(protocolHex('The refusal "banned"'), hex(refusal))
    assert.equal(protocolHex('The record plaintext of state version 7'), hex(encodeGroupRendezvous(record)))
    assert.deepEqual(decodeGroupControl(request), { type: 'join-request', group, nick: 'carol' })
    assert.deepEqual(decodeGroupControl(refusal), { type: 'join-refusal', group, reason: 'banned' })
    assert.deepEqual(decodeGroupRendezvous(encodeGroupRendezvous(record)), record)
  })

  for (const backend of backends)
    it(`${backend.name}: the record key and body key of period 20000 are the document's`, () => {
      const keys = protocolHex('Its record key and body key in period 20000')
      assert.equal(hex(blindedRecordKey(group, 20000, backend)), keys.slice(0, 64))
      assert.equal(hex(recordBodyKey(group, 20000, backend)), keys.slice(64))
    })

  it('refuses malformed join bodies with specific codes', () => {
    const request = encodeGroupControl({ type: 'join-request', group, nick: 'carol' })
    assert.throws(() => decodeGroupControl(request.subarray(0, 34)), wireError('GROUP_LENGTH'))
    assert.throws(() => decodeGroupControl(request.subarray(0, 20)), wireError('GROUP_LENGTH'))
    assert.throws(
      () => decodeGroupControl(Uint8Array.of(...request.subarray(0, 34), 0xff, 0xfe)),
      wireError('GROUP_FIELD'),
    )
    assert.throws(
      () => decodeGroupControl(Uint8Array.of(...request.subarray(0, 34), ...new Uint8Array(65).fill(0x61))),
      wireError('GROUP_LENGTH'),
    )
    assert.throws(
      () => encodeGroupControl({ type: 'join-request', group, nick: '' }),
      wireError('GROUP_FIELD'),
    )
    const refusal = encodeGroupControl({ type: 'join-refusal', group, reason: 'full' })
    assert.throws(
      () => decodeGroupControl(Uint8Array.of(...refusal.subarray(0, 34), 9)),
      wireError('GROUP_TYPE'),
    )
    assert.throws(() => decodeGroupControl(Uint8Array.of(...refusal, 0)), wireError('GROUP_LENGTH'))
  })

  it('refuses malformed records: version, counts, lengths, trailing bytes', () => {
    const bytes = encodeGroupRendezvous(record)
    assert.throws(
      () => decodeGroupRendezvous(Uint8Array.of(2, ...bytes.subarray(1))),
      wireError('GROUP_VERSION'),
    )
    const noAdmitters = Uint8Array.of(...bytes.subarray(0, 13), 0)
    assert.throws(() => decodeGroupRendezvous(noAdmitters), wireError('GROUP_FIELD'))
    assert.throws(() => decodeGroupRendezvous(bytes.subarray(0, bytes.length - 1)), wireError('GROUP_LENGTH'))
    assert.throws(() => decodeGroupRendezvous(Uint8Array.of(...bytes, 0)), wireError('GROUP_LENGTH'))
    assert.throws(() => encodeGroupRendezvous({ ...record, admitters: [] }), wireError('GROUP_FIELD'))
    assert.throws(
      () => encodeGroupRendezvous({ ...record, admitters: new Array(17).fill(alice) }),
      wireError('GROUP_FIELD'),
    )
  })

  it('random bytes never throw anything but GroupWireError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 700 }), (bytes) => {
        for (const decode of [
          decodeGroupRendezvous,
          (b: Uint8Array) => decodeGroupControl(Uint8Array.of(0x67, 5, ...b)),
          (b: Uint8Array) => decodeGroupControl(Uint8Array.of(0x67, 6, ...b)),
        ])
          try {
            decode(bytes)
          } catch (err) {
            assert.ok(err instanceof GroupWireError, `${err}`)
          }
      }),
    )
  })
})

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { identityFromSeed } from '../../../bridge/crypto/identity.js'
import { GroupWireError } from '../../../bridge/wire/group-bytes.js'
import { controlGroup, decodeGroupControl, encodeGroupControl } from '../../../bridge/wire/group-control.js'
import { protocolHex } from './fanout-vector.js'

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')
const group = identityFromSeed(
  new Uint8Array(Buffer.from('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hex')),
).publicKey
const wireError = (code: string) => (err: unknown) => err instanceof GroupWireError && err.code === code

describe('declined invitations: group body type 8 (docs/protocol.md "Declined invitations")', () => {
  it('the decline "busy" is in the document verbatim and decodes back', () => {
    const decline = encodeGroupControl({ type: 'decline', group, reason: 'busy' })
    assert.equal(protocolHex('The decline with the reason "busy"'), hex(decline))
    assert.deepEqual(decodeGroupControl(decline), { type: 'decline', group, reason: 'busy' })
    assert.equal(hex(controlGroup(decodeGroupControl(decline))), hex(group))
    const bare = encodeGroupControl({ type: 'decline', group, reason: '' })
    assert.deepEqual(decodeGroupControl(bare), { type: 'decline', group, reason: '' })
  })

  it('refuses malformed declines with specific codes', () => {
    const decline = encodeGroupControl({ type: 'decline', group, reason: 'busy' })
    assert.throws(() => decodeGroupControl(decline.subarray(0, 20)), wireError('GROUP_LENGTH'))
    assert.throws(() => decodeGroupControl(decline.subarray(0, 35)), wireError('GROUP_LENGTH'))
    assert.throws(
      () => decodeGroupControl(decline.subarray(0, decline.length - 1)),
      wireError('GROUP_LENGTH'),
    )
    assert.throws(() => decodeGroupControl(Uint8Array.of(...decline, 0)), wireError('GROUP_LENGTH'))
    assert.throws(
      () => decodeGroupControl(Uint8Array.of(...decline.subarray(0, 34), 0, 2, 0xff, 0xfe)),
      wireError('GROUP_FIELD'),
    )
    const long = Uint8Array.of(...decline.subarray(0, 34), 0x04, 0x01, ...new Uint8Array(1025).fill(0x61))
    assert.throws(() => decodeGroupControl(long), wireError('GROUP_LENGTH'))
    assert.throws(
      () => encodeGroupControl({ type: 'decline', group, reason: 'x'.repeat(1025) }),
      wireError('GROUP_LENGTH'),
    )
  })
})

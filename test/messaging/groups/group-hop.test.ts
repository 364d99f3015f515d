import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { GroupWireError } from '../../../bridge/wire/group-bytes.js'
import { isGroupControl } from '../../../bridge/wire/group-control.js'
import { signFanoutPacket } from '../../../bridge/wire/group-fanout.js'
import { decodeGroupHop, encodeGroupHop, isGroupHop } from '../../../bridge/wire/group-hop.js'
import { protocolHex, VECTOR_FIELDS, VECTOR_ORIGIN } from './fanout-vector.js'

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

const packet = signFanoutPacket(VECTOR_FIELDS, VECTOR_ORIGIN)

const wireError = (code: string) => (err: unknown) => err instanceof GroupWireError && err.code === code

describe('fan-out hop bodies (docs/protocol.md "Pairwise group bodies")', () => {
  it('the hop of the fan-out packet vector is in the document verbatim, and decodes back to the packet', () => {
    const hop = encodeGroupHop(packet)
    assert.equal(protocolHex('The hop of the'), hex(hop))
    assert.ok(isGroupControl(hop) && isGroupHop(hop))
    assert.deepEqual(decodeGroupHop(hop), packet)
  })

  it('refuses other group bodies and hops too short for a packet', () => {
    assert.throws(() => decodeGroupHop(Uint8Array.of(0x67, 0x03, 1, 2)), wireError('GROUP_TYPE'))
    assert.throws(() => decodeGroupHop(encodeGroupHop(packet).subarray(0, 100)), wireError('GROUP_LENGTH'))
    assert.throws(() => encodeGroupHop(packet.subarray(0, 10)), wireError('GROUP_LENGTH'))
    assert.ok(!isGroupHop(Uint8Array.of(0x01, 0x10)))
  })
})

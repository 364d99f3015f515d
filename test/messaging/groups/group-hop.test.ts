import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { identityFromSeed } from '../../../bridge/crypto/identity.js'
import { onlineBitmap } from '../../../bridge/messaging/groups/fanout.js'
import { GroupWireError } from '../../../bridge/wire/group-bytes.js'
import { isGroupControl } from '../../../bridge/wire/group-control.js'
import { signFanoutPacket } from '../../../bridge/wire/group-fanout.js'
import { decodeGroupHop, encodeGroupHop, isGroupHop } from '../../../bridge/wire/group-hop.js'

const protocol = readFileSync(new URL('../../../docs/protocol.md', import.meta.url), 'utf8')
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

/** The hex of the code block after `marker`: the first word of each line. */
function docHex(marker: string): string {
  const start = protocol.indexOf('```', protocol.indexOf(marker)) + 3
  return protocol
    .slice(start, protocol.indexOf('```', start))
    .split('\n')
    .map((line) => line.trim().split(/\s+/)[0] ?? '')
    .join('')
}

// The "Packet vector" of docs/group-fanout.md.
const packet = signFanoutPacket(
  {
    width: 10,
    groupId: new Uint8Array(32).fill(0x11),
    messageId: Uint8Array.from({ length: 16 }, (_, i) => i),
    timestamp: 1_800_000_000_000,
    stateVersion: 7,
    memberCount: 12,
    online: onlineBitmap(12, (i) => i !== 3 && i !== 10),
    inner: new TextEncoder().encode('sealed group message'),
  },
  identityFromSeed(Buffer.from('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'hex')),
)

const wireError = (code: string) => (err: unknown) => err instanceof GroupWireError && err.code === code

describe('fan-out hop bodies (docs/protocol.md "Pairwise group bodies")', () => {
  it('the hop of the fan-out packet vector is in the document verbatim, and decodes back to the packet', () => {
    const hop = encodeGroupHop(packet)
    assert.equal(docHex('The hop of the'), hex(hop))
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

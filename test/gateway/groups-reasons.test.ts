import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { encodeAddress } from '../../bridge/crypto/address.js'
import { type FakeBridge, FakeNetwork, type RoomCall } from './groups-helpers.js'

const SETTINGS = { name: 'Team', description: 'd', membersOnly: true, mode: 'normal' as const }

/** What `side`'s room was told for `method` about `field` = `value`, as its first argument. */
const callsOf = (side: FakeBridge, method: RoomCall['method'], field: string, value: string) =>
  side.calls
    .filter((c) => c.method === method && (c.args[0] as Record<string, unknown>)[field] === value)
    .map((c) => c.args[0] as Record<string, unknown>)

// Found with poezio across two bridges (scripts/interop-poezio-muc.sh): the kicked member's client showed
// the kick without the moderator's reason. The reason now travels in the signed update (op 11).
describe('group gateway: the reason of a kick or a ban reaches the other members’ rooms', () => {
  it('bob, kicked "too loud", and carol, banned "spam", see why on their bridges; so does the other', async () => {
    const net = new FakeNetwork()
    const alice = await net.add('alice')
    const bob = await net.add('bob')
    const carol = await net.add('carol')
    await alice.propose({ type: 'create', room: 'team', nick: 'Alice', config: SETTINGS })
    const room = encodeAddress(alice.groups.rooms.groupOf('team')!).toLowerCase()
    for (const invitee of [bob, carol])
      await alice.propose({ type: 'invite', room: 'team', invitee: invitee.jid })
    await net.quiet()
    for (const [side, nick] of [
      [bob, 'Bob'],
      [carol, 'Carol'],
    ] as const)
      await side.propose({ type: 'join', room, nick, presence: [] })
    await net.quiet()

    await alice.propose({
      type: 'role',
      room: 'team',
      nick: 'Alice',
      target: 'Bob',
      role: 'none',
      reason: 'too loud',
    })
    await net.quiet()
    for (const side of [bob, carol])
      assert.deepEqual(callsOf(side, 'role', 'nick', 'Bob'), [
        { actor: alice.address, nick: 'Bob', role: 'none', reason: 'too loud' },
      ])

    await alice.propose({
      type: 'affiliation',
      room: 'team',
      nick: 'Alice',
      target: carol.jid,
      affiliation: 'outcast',
      reason: 'spam',
    })
    await net.quiet()
    const ban = callsOf(carol, 'affiliation', 'affiliation', 'outcast')
    assert.equal(ban.at(-1)?.reason, 'spam')
    // Without a reason, none is made up.
    await alice.propose({
      type: 'affiliation',
      room: 'team',
      nick: 'Alice',
      target: bob.jid,
      affiliation: 'member',
    })
    await net.quiet()
    assert.equal(callsOf(bob, 'affiliation', 'affiliation', 'member').at(-1)?.reason, undefined)
  })
})

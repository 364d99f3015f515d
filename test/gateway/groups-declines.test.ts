import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { beforeEach, describe, it } from 'node:test'
import { defaultConfig } from '../../bridge/config/schema.js'
import { GroupSession } from '../../bridge/messaging/groups/session.js'
import { encodeGroupControl } from '../../bridge/wire/group-control.js'
import { createTeam, type FakeBridge, FakeNetwork } from './groups-helpers.js'

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const SETTINGS = { name: 'Team', description: 'd', membersOnly: true, mode: 'normal' as const }

describe('group gateway: a declined invitation reaches the inviter (XEP-0045 §7.8.2)', () => {
  let net: FakeNetwork
  let alice: FakeBridge
  /** Knows nobody: alice's invitation is held. */
  let bob: FakeBridge
  /** Has alice as a contact: the invitation is taken up at once. */
  let carol: FakeBridge
  let group: Uint8Array
  let room: string

  const declines = (side: FakeBridge) =>
    side.calls.filter((c) => c.method === 'decline').map((c) => c.args[0])
  const destroyed = (side: FakeBridge) => side.calls.filter((c) => c.method === 'destroy').map((c) => c.room)

  /** The state `side` holds of the group, read from its store. */
  async function stateOf(side: FakeBridge) {
    const session = await GroupSession.load({
      store: side.store,
      local: side.identity,
      group,
      config: defaultConfig().groups,
      maxMessageBytes: defaultConfig().messaging.maxMessageBytes,
    })
    return session.state
  }

  /** A decline body from `from` (as any bridge could send it) delivered to `to`. */
  async function declineFrom(from: Uint8Array, to: FakeBridge, reason = ''): Promise<void> {
    await to.groups.deliver({
      from,
      to: to.identity.publicKey,
      id: randomBytes(16),
      timestamp: Date.now(),
      body: encodeGroupControl({ type: 'decline', group, reason }),
      reliable: true,
    })
    await net.quiet()
  }

  beforeEach(async () => {
    net = new FakeNetwork()
    alice = await net.add('alice')
    bob = await net.add('bob')
    bob.contacts = new Set()
    carol = await net.add('carol')
    ;({ group, room } = await createTeam(net, alice, [bob, carol], SETTINGS))
  })

  it("a held invitation declined: alice's client is shown the decline and bob is removed in a new epoch", async () => {
    const before = await stateOf(alice)
    await bob.propose({ type: 'decline', room, to: alice.jid, reason: 'busy' })
    await net.quiet()
    assert.deepEqual(destroyed(bob), [room], "bob's bridge forgot the group")
    assert.deepEqual(await GroupSession.groupsOf(bob.store, bob.identity.publicKey), [])
    assert.deepEqual(declines(alice), [{ account: 'alice', from: bob.address, reason: 'busy' }])
    const after = await stateOf(alice)
    assert.equal(after!.members.has(hex(bob.identity.publicKey)), false, 'bob is no member any more')
    assert.equal(after!.epoch, before!.epoch + 1, 'the removal started a new epoch')
    assert.equal((await stateOf(carol))!.members.has(hex(bob.identity.publicKey)), false, 'carol agrees')
    let toBob = 0
    let toCarol = 0
    net.hold = (_body, to) => {
      if (hex(to) === hex(bob.identity.publicKey)) toBob++
      if (hex(to) === hex(carol.identity.publicKey)) toCarol++
      return false
    }
    await alice.propose({ type: 'configure', room: 'team', config: { ...SETTINGS, name: 'Team 2' } })
    await alice.propose({ type: 'message', room: 'team', nick: 'Alice', id: 'm', payload: [] })
    await net.quiet()
    assert.ok(toCarol > 0, 'the change and the message went to the members')
    assert.equal(toBob, 0, 'nothing more goes to bob')
    assert.deepEqual(await GroupSession.groupsOf(bob.store, bob.identity.publicKey), [], 'nor comes back')
  })

  it("a contact's invitation declined before joining: the group is left the same way", async () => {
    await carol.propose({ type: 'decline', room, to: alice.jid })
    await net.quiet()
    assert.deepEqual(destroyed(carol), [room])
    assert.deepEqual(await GroupSession.groupsOf(carol.store, carol.identity.publicKey), [])
    assert.deepEqual(declines(alice), [{ account: 'alice', from: carol.address }])
    assert.equal((await stateOf(alice))!.members.has(hex(carol.identity.publicKey)), false)
  })

  it('a decline from a room the user is in, or to no member, changes nothing or tells nobody', async () => {
    await carol.propose({ type: 'join', room, nick: 'Carol', presence: [] })
    await net.quiet()
    await carol.propose({ type: 'decline', room, to: alice.jid })
    await net.quiet()
    assert.deepEqual(destroyed(carol), [], 'carol is in the room: the decline is a no-op')
    assert.deepEqual(declines(alice), [])
    // Declined "to" somebody who is no member: forgotten here, nobody told.
    const sent = net.sent.length
    await bob.propose({ type: 'decline', room, to: 'nobody@elsewhere.example' })
    await net.quiet()
    assert.deepEqual(destroyed(bob), [room], 'held: the pending inviter is told regardless of "to"')
    assert.ok(net.sent.length > sent)
    assert.deepEqual(declines(alice), [{ account: 'alice', from: bob.address }])
  })

  it('declines from non-members, occupants in the room and repeats are dropped; a plain member removes nobody', async () => {
    await declineFrom(randomBytes(32), alice, 'who am I')
    assert.deepEqual(declines(alice), [], 'not a member')
    await carol.propose({ type: 'join', room, nick: 'Carol', presence: [] })
    await net.quiet()
    await declineFrom(carol.identity.publicKey, alice)
    assert.deepEqual(declines(alice), [], 'carol is in the room')
    // To carol, a plain member: shown once, and bob stays a member.
    await declineFrom(bob.identity.publicKey, carol, 'no')
    await declineFrom(bob.identity.publicKey, carol, 'no!')
    assert.deepEqual(declines(carol), [{ account: 'carol', from: bob.address, reason: 'no' }])
    assert.equal((await stateOf(carol))!.members.has(hex(bob.identity.publicKey)), true)
    // To alice, the owner: one removal, a second decline is from a non-member.
    const version = (await stateOf(alice))!.version
    await declineFrom(bob.identity.publicKey, alice)
    await declineFrom(bob.identity.publicKey, alice)
    assert.equal((await stateOf(alice))!.version, version + 1, 'one removal signed')
    assert.equal(declines(alice).length, 1)
  })

  it('a decline reason over 1024 bytes is refused to the client, the group kept', async () => {
    await assert.rejects(
      bob.propose({ type: 'decline', room, to: alice.jid, reason: 'x'.repeat(1025) }),
      (err: { condition?: string }) => err.condition === 'not-acceptable',
    )
    assert.equal(bob.groups.rooms.groupOf(room) !== undefined, true)
  })
})

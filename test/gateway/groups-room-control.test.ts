import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { beforeEach, describe, it } from 'node:test'
import { createElement as xml } from 'ltx'
import { defaultConfig } from '../../bridge/config/schema.js'
import { nativeBackend } from '../../bridge/crypto/native.js'
import { GatewayError } from '../../bridge/gateway/errors.js'
import { loadGroupSeed } from '../../bridge/messaging/groups/group-key.js'
import { GroupSession } from '../../bridge/messaging/groups/session.js'
import type { GroupBody } from '../../bridge/wire/group-message.js'
import { createTeam, type FakeBridge, FakeNetwork } from './groups-helpers.js'

const SETTINGS = { name: 'Team', description: '', membersOnly: true, mode: 'normal' as const }
const refused = (condition: string) => (err: unknown) =>
  err instanceof GatewayError && err.condition === condition
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

describe('group gateway: destroying a room, voice and moderator (fake rooms, in-memory messengers)', () => {
  let net: FakeNetwork
  let alice: FakeBridge
  let bob: FakeBridge
  let carol: FakeBridge
  let group: Uint8Array
  let room: string

  const calls = (side: FakeBridge, method: string) => side.calls.filter((c) => c.method === method)
  const roles = (side: FakeBridge) => calls(side, 'role').map((c) => c.args[0])
  const bodies = (side: FakeBridge) => calls(side, 'message').length
  const say = (side: FakeBridge, nick: string, text: string) =>
    side.propose({
      type: 'message',
      room: side === alice ? 'team' : room,
      nick,
      id: text,
      payload: [xml('body', {}, text)],
    })
  const role = (side: FakeBridge, target: string, to: 'visitor' | 'participant' | 'moderator') =>
    side.propose({ type: 'role', room: side === alice ? 'team' : room, target, role: to })

  /** A group body sealed by `side`'s own session (as a modified bridge would send it), delivered to `to`. */
  async function forge(side: FakeBridge, to: FakeBridge, body: GroupBody): Promise<void> {
    const session = await GroupSession.load({
      store: side.store,
      local: side.identity,
      group,
      config: defaultConfig().groups,
      maxMessageBytes: defaultConfig().messaging.maxMessageBytes,
    })
    const sealed = await session.seal(body)
    await to.groups.deliver({
      from: side.identity.publicKey,
      to: to.identity.publicKey,
      id: randomBytes(16),
      timestamp: Date.now(),
      body: sealed.pairwiseBody,
      reliable: true,
    })
    await net.quiet()
  }

  /** Alice creates "team", invites bob and carol; all three are in the room. */
  beforeEach(async () => {
    net = new FakeNetwork()
    alice = await net.add('alice')
    bob = await net.add('bob')
    carol = await net.add('carol')
    ;({ group, room } = await createTeam(net, alice, [bob, carol], SETTINGS))
    await bob.propose({ type: 'join', room, nick: 'Bob', presence: [] })
    await carol.propose({ type: 'join', room, nick: 'Carol', presence: [] })
    await net.quiet()
  })

  it("an owner revokes a member's voice: every other bridge shows it and drops the visitor's messages", async () => {
    await role(alice, 'Bob', 'visitor')
    await net.quiet()
    const change = { actor: alice.address, nick: 'Bob', role: 'visitor' }
    assert.deepEqual(roles(bob), [change])
    assert.deepEqual(roles(carol), [change])
    // Bob's own room refuses him (the MUC module); a bridge that sends anyway is not shown.
    await say(bob, 'Bob', 'muted')
    await net.quiet()
    assert.equal(bodies(carol), 0)
    assert.equal(bodies(alice), 0)
    // Voice back: shown again.
    await role(alice, 'Bob', 'participant')
    await net.quiet()
    await say(bob, 'Bob', 'heard')
    await net.quiet()
    assert.equal(bodies(carol), 1)
  })

  it('a role lasts while the occupant is in: bob leaves and comes back with a voice', async () => {
    await role(alice, 'Bob', 'visitor')
    await net.quiet()
    await bob.propose({ type: 'leave', room, nick: 'Bob' })
    await bob.propose({ type: 'join', room, nick: 'Bob', presence: [] })
    await net.quiet()
    await say(bob, 'Bob', 'back')
    await net.quiet()
    assert.equal(bodies(carol), 1)
  })

  describe('roles are told to a newcomer (docs/gateway.md "Roles for newcomers")', () => {
    /** Dave is invited and joins after the roles were given. */
    async function daveJoins(): Promise<FakeBridge> {
      const dave = await net.add('dave')
      await alice.propose({ type: 'invite', room: 'team', invitee: dave.jid })
      await net.quiet()
      await dave.propose({ type: 'join', room, nick: 'Dave', presence: [] })
      await net.quiet()
      return dave
    }

    it("a visitor and a granted moderator: the newcomer's bridge shows both and drops the visitor's messages", async () => {
      await role(alice, 'Bob', 'visitor')
      await role(alice, 'Carol', 'moderator')
      await net.quiet()
      const dave = await daveJoins()
      // Told by whichever moderator's bridge came first: bob's voice by alice or by carol (a moderator
      // now), carol's moderation only by alice (an owner).
      const told = roles(dave) as { actor: string; nick: string; role: string }[]
      assert.deepEqual(told.map((r) => `${r.nick}:${r.role}`).sort(), ['Bob:visitor', 'Carol:moderator'])
      assert.ok(
        told.every((r) => r.actor === alice.address || (r.actor === carol.address && r.nick === 'Bob')),
      )
      assert.equal(roles(dave).length, 2, 'each role shown once')
      await say(bob, 'Bob', 'muted')
      await net.quiet()
      assert.equal(bodies(dave), 0, "the visitor's message is dropped by the newcomer too")
      // Carol's granted moderation holds at dave's bridge: her voice change is applied there.
      await role(carol, 'Bob', 'participant')
      await net.quiet()
      assert.deepEqual(roles(dave).at(-1), { actor: carol.address, nick: 'Bob', role: 'participant' })
    })

    it("a role told before the occupant's own join reaches the newcomer waits for the join", async () => {
      await role(alice, 'Bob', 'visitor')
      await net.quiet()
      const late = (to: Uint8Array, from: Uint8Array) =>
        hex(from) === hex(bob.identity.publicKey) && net.bridges.get(hex(to))?.account === 'dave'
      net.hold = (_body, to, from) => late(to, from)
      const dave = await daveJoins()
      assert.deepEqual(roles(dave), [], 'bob is not in the room at dave yet')
      net.hold = () => false
      net.release()
      await net.quiet()
      assert.deepEqual(roles(dave), [{ actor: alice.address, nick: 'Bob', role: 'visitor' }])
    })

    it('a forged role told to a newcomer is checked as any other: a participant gives no roles', async () => {
      const dave = await daveJoins()
      await forge(bob, dave, { kind: 'role', target: carol.identity.publicKey, role: 'visitor' })
      assert.deepEqual(roles(dave), [])
    })
  })

  it('the rights of XEP-0045: moderators change voice, only owners and admins moderation, never an owner', async () => {
    await assert.rejects(
      role(bob, 'Carol', 'visitor'),
      refused('not-allowed'),
      'a participant is no moderator',
    )
    await role(alice, 'Carol', 'moderator')
    await net.quiet()
    assert.deepEqual(roles(bob), [{ actor: alice.address, nick: 'Carol', role: 'moderator' }])
    // Carol, a moderator by grant: voice yes, moderation no, an owner's role never.
    await assert.rejects(role(carol, 'Bob', 'moderator'), refused('not-allowed'))
    await assert.rejects(role(carol, 'Alice', 'visitor'), refused('not-allowed'))
    await assert.rejects(role(carol, 'Nobody', 'visitor'), refused('item-not-found'))
    await role(carol, 'Bob', 'visitor')
    await net.quiet()
    assert.deepEqual(roles(alice).at(-1), { actor: carol.address, nick: 'Bob', role: 'visitor' })
    // An affiliation change gives the affiliation's role back (as the room does).
    await alice.propose({ type: 'affiliation', room: 'team', target: bob.jid, affiliation: 'admin' })
    await net.quiet()
    await say(bob, 'Bob', 'as admin')
    await net.quiet()
    assert.equal(bodies(carol), 1)
  })

  it("receivers check the sender's rights themselves: a participant's forged role body is dropped", async () => {
    await forge(bob, carol, { kind: 'role', target: alice.identity.publicKey, role: 'visitor' })
    await forge(bob, carol, { kind: 'role', target: carol.identity.publicKey, role: 'moderator' })
    assert.deepEqual(roles(carol), [])
  })

  it('only an owner destroys: every bridge shows §10.9 with the reason, forgets the room and refuses what follows', async () => {
    await alice.propose({ type: 'affiliation', room: 'team', target: bob.jid, affiliation: 'admin' })
    await net.quiet()
    await assert.rejects(bob.propose({ type: 'destroy', room, reason: 'mine now' }), refused('forbidden'))
    await assert.rejects(
      alice.propose({ type: 'destroy', room: 'team', reason: 'x'.repeat(1025) }),
      refused('not-acceptable'),
    )
    const early = await (async () => {
      const session = await GroupSession.load({
        store: carol.store,
        local: carol.identity,
        group,
        config: defaultConfig().groups,
        maxMessageBytes: defaultConfig().messaging.maxMessageBytes,
      })
      return session.seal({ kind: 'message', payload: Uint8Array.of(1, 2, 3) })
    })()
    await alice.propose({ type: 'destroy', room: 'team', reason: 'done', alternate: 'next@conference.x' })
    await net.quiet()
    for (const side of [bob, carol]) {
      assert.deepEqual(
        calls(side, 'destroy').map((c) => [c.room, c.args[0]]),
        [[room, { reason: 'done', alternate: 'next@conference.x' }]],
      )
      assert.equal(side.groups.rooms.groupOf(room), undefined, `${side.account} forgot the room`)
    }
    // The room on alice's bridge destroys itself; the name "team" is free again; her group seed is gone.
    assert.equal(calls(alice, 'destroy').length, 0)
    assert.equal(alice.groups.rooms.groupOf('team'), undefined)
    assert.equal(await loadGroupSeed(alice.store, nativeBackend, alice.identity, group), undefined)
    // Joining the address again: the group is gone.
    await assert.rejects(
      bob.propose({ type: 'create', room, nick: 'Bob', config: SETTINGS }),
      (err: unknown) => refused('item-not-found')(err) && /destroyed: done/.test((err as Error).message),
    )
    // A message carol sealed before, arriving late at bob: refused, and carol is sent the destroy again.
    const sent = net.sent.length
    await bob.groups.deliver({
      from: carol.identity.publicKey,
      to: bob.identity.publicKey,
      id: randomBytes(16),
      timestamp: Date.now(),
      body: early.pairwiseBody,
      reliable: true,
    })
    await net.quiet()
    assert.equal(bodies(bob), 0)
    assert.deepEqual(
      net.sent.slice(sent).map((s) => [hex(s.from), s.body[1]]),
      [[hex(bob.identity.publicKey), 0x01]],
      'bob answers with the destroy update',
    )
  })

  it('a member whose bridge was away ends the group when the destroy reaches it later', async () => {
    net.hold = (_bytes, to) => hex(to) === hex(carol.identity.publicKey)
    await alice.propose({ type: 'destroy', room: 'team' })
    await net.quiet()
    assert.equal(calls(carol, 'destroy').length, 0)
    assert.deepEqual(carol.groups.rooms.groupOf(room), group)
    net.hold = () => false
    net.release()
    await net.quiet()
    assert.deepEqual(
      calls(carol, 'destroy').map((c) => c.args[0]),
      [{}],
    )
    assert.equal(carol.groups.rooms.groupOf(room), undefined)
  })
})

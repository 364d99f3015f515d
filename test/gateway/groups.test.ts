import assert from 'node:assert/strict'
import { beforeEach, describe, it } from 'node:test'
import { createElement as xml } from 'ltx'
import { encodeAddress } from '../../bridge/crypto/address.js'
import { GatewayError } from '../../bridge/gateway/errors.js'
import { isGroupControl } from '../../bridge/wire/group-control.js'
import { isGroupHop } from '../../bridge/wire/group-hop.js'
import { body, createTeam, type FakeBridge, FakeNetwork } from './groups-helpers.js'

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const SETTINGS = { name: 'Team', description: 'd', membersOnly: true, mode: 'normal' as const }

const refused = (condition: string) => (err: unknown) =>
  err instanceof GatewayError && err.condition === condition

describe('group gateway: room actions ↔ group state and messages (fake rooms, in-memory messengers)', () => {
  let net: FakeNetwork
  let alice: FakeBridge
  let bob: FakeBridge
  let carol: FakeBridge
  let group: Uint8Array
  let room: string

  /** Alice creates "team" and invites bob and carol; bob joins. */
  beforeEach(async () => {
    net = new FakeNetwork()
    alice = await net.add('alice')
    bob = await net.add('bob')
    carol = await net.add('carol')
    ;({ group, room } = await createTeam(net, alice, [bob, carol], SETTINGS))
  })

  it('a room created here is a new group under its local name; an invitee gets the room and the invitation', async () => {
    assert.equal(alice.groups.rooms.roomOf(group), 'team')
    const methods = bob.calls.map((c) => c.method)
    assert.equal(bob.calls[0]!.method, 'configure')
    assert.equal(bob.calls[0]!.room, room)
    assert.deepEqual(bob.calls[0]!.args[0], { ...SETTINGS, persistent: true })
    const invite = bob.calls.find((c) => c.method === 'invite')!
    assert.deepEqual(invite.args[0], { account: 'bob', from: alice.address })
    assert.ok(methods.indexOf('affiliation') < methods.indexOf('invite'), 'affiliations are set before')
    const own = bob.calls.find(
      (c) =>
        c.method === 'affiliation' && (c.args[0] as { target: string }).target === `bob@paranoim.localhost`,
    )
    assert.equal((own!.args[0] as { affiliation: string }).affiliation, 'member')
  })

  it('a join crosses as a group message; the newcomer is told who is in', async () => {
    await bob.propose({ type: 'join', room, nick: 'Bob', presence: [] })
    await net.quiet()
    assert.deepEqual(
      alice.calls.filter((c) => c.method === 'join').map((c) => c.args[0]),
      [{ address: bob.address, nick: 'Bob' }],
    )
    assert.deepEqual(
      bob.calls.filter((c) => c.method === 'join').map((c) => c.args[0]),
      [{ address: alice.address, nick: 'Alice' }],
    )
    // Carol is a member but not in the room: she sees bob join, and tells nobody.
    assert.equal(carol.calls.filter((c) => c.method === 'join').length, 1)
  })

  it('messages cross through the allow-list: foreign elements and client ids stay behind', async () => {
    await bob.propose({ type: 'join', room, nick: 'Bob', presence: [] })
    await net.quiet()
    const payload = [
      xml('body', {}, 'hello'),
      xml('x', { xmlns: 'urn:evil' }, xml('script', {}, 'alert(1)')),
      xml('origin-id', { xmlns: 'urn:xmpp:sid:0', id: 'client-fingerprint' }),
    ]
    await alice.propose({ type: 'message', room: 'team', nick: 'Alice', id: 'room-id', payload })
    await net.quiet()
    const shown = bob.calls.filter((c) => c.method === 'message').map((c) => c.args[0])
    assert.equal(shown.length, 1)
    const message = shown[0] as { address: string; payload: []; id: string }
    assert.equal(message.address, alice.address)
    assert.equal(body(message.payload), '<body>hello</body>')
    assert.match(message.id, /^[0-9a-f]{32}$/)
    // A typing notification alone stays here.
    const sent = net.sent.length
    await alice.propose({
      type: 'message',
      room: 'team',
      nick: 'Alice',
      id: 'typing',
      payload: [xml('composing', { xmlns: 'http://jabber.org/protocol/chatstates' })],
    })
    assert.equal(net.sent.length, sent)
    // A subject and a leave too, in the order they were made.
    await alice.propose({ type: 'subject', room: 'team', nick: 'Alice', subject: 'Plans' })
    await alice.propose({ type: 'leave', room: 'team', nick: 'Alice' })
    await net.quiet()
    assert.deepEqual(
      bob.calls.slice(-2).map((c) => c.method),
      ['subject', 'leave'],
    )
  })

  it("refusals come from the signed state: a member's kick, a non-member's join, a banned member's join", async () => {
    await bob.propose({ type: 'join', room, nick: 'Bob', presence: [] })
    await net.quiet()
    // Bob is a plain member: the state does not let him remove alice.
    await assert.rejects(
      bob.propose({ type: 'role', room, nick: 'Bob', target: 'Alice', role: 'none' }),
      refused('forbidden'),
    )
    await alice.propose({
      type: 'affiliation',
      room: 'team',
      nick: 'Alice',
      target: carol.jid,
      affiliation: 'outcast',
    })
    await alice.propose({ type: 'role', room: 'team', nick: 'Alice', target: 'Bob', role: 'none' })
    await net.quiet()
    const carolOnAlice = alice.calls
      .filter((c) => c.method === 'affiliation' && (c.args[0] as { target: string }).target === carol.jid)
      .map((c) => (c.args[0] as { affiliation: string }).affiliation)
    assert.equal(carolOnAlice.at(-1), 'outcast', "the ban stays a ban in the banning admin's room")
    await assert.rejects(
      carol.propose({ type: 'join', room, nick: 'Carol', presence: [] }),
      refused('forbidden'),
    )
    await assert.rejects(
      bob.propose({ type: 'join', room, nick: 'Bob', presence: [] }),
      refused('registration-required'),
    )
    // Each removal is shown on the removed member's bridge: the ban (301 by the room), the kick (307).
    assert.ok(
      carol.calls.some(
        (c) => c.method === 'affiliation' && (c.args[0] as { affiliation: string }).affiliation === 'outcast',
      ),
    )
    assert.deepEqual(bob.calls.find((c) => c.method === 'role')?.args[0], {
      actor: alice.address,
      nick: 'Bob',
      role: 'none',
    })
  })

  it('a kick starts a new epoch: the kicked member cannot open what follows, the others can', async () => {
    await bob.propose({ type: 'join', room, nick: 'Bob', presence: [] })
    await carol.propose({ type: 'join', room, nick: 'Carol', presence: [] })
    await net.quiet()
    await alice.propose({ type: 'role', room: 'team', nick: 'Alice', target: 'Carol', role: 'none' })
    await net.quiet()
    const messages = (side: FakeBridge) => side.calls.filter((c) => c.method === 'message').length
    await alice.propose({
      type: 'message',
      room: 'team',
      nick: 'Alice',
      id: 'x',
      payload: [xml('body', {}, 'later')],
    })
    await net.quiet()
    assert.equal(messages(bob), 1)
    assert.equal(messages(carol), 0)
  })

  it('refuses what a network room cannot carry, and rooms named like an unknown group', async () => {
    await assert.rejects(
      carol.propose({
        type: 'create',
        room: encodeAddress(new Uint8Array(32).fill(7)).toLowerCase(),
        nick: 'C',
        config: SETTINGS,
      }),
      refused('item-not-found'),
    )
  })

  it('drops group bodies that are malformed or about groups it was never given the chain of', async () => {
    const deliver = (bytes: Uint8Array) =>
      bob.groups.deliver({
        from: alice.identity.publicKey,
        to: bob.identity.publicKey,
        id: new Uint8Array(16),
        timestamp: 0,
        body: bytes,
        reliable: true,
      })
    for (const bytes of [
      Uint8Array.of(0x67, 0x03),
      Uint8Array.of(0x67, 0x10, 1, 2, 3),
      Uint8Array.of(0x67, 0x04, ...new Uint8Array(36)),
    ]) {
      assert.ok(isGroupControl(bytes))
      await deliver(bytes)
    }
    assert.equal(bob.calls.filter((c) => c.method === 'configure').length, 1)
  })

  it("a known group's room made again here (its last local occupant had left) is a join, restored from the state", async () => {
    const before = alice.calls.length
    await alice.propose({ type: 'create', room: 'team', nick: 'Alice2', config: { ...SETTINGS, name: '' } })
    await net.quiet()
    assert.deepEqual(alice.calls[before]!.args[0], { ...SETTINGS, persistent: true })
    assert.deepEqual(
      carol.calls.filter((c) => c.method === 'join').map((c) => c.args[0]),
      [{ address: alice.address, nick: 'Alice2' }],
    )
  })

  it('an invitation is shown only once the epoch key is in, so the invitee can take part at once', async () => {
    const dave = await net.add('dave')
    net.hold = (bytes) => bytes[1] === 0x02 // key packages
    await alice.propose({ type: 'invite', room: 'team', invitee: dave.jid })
    await net.quiet()
    assert.ok(
      dave.calls.some((c) => c.method === 'configure'),
      'the room is there',
    )
    assert.ok(!dave.calls.some((c) => c.method === 'invite'), 'but no invitation yet')
    net.release()
    await net.quiet()
    assert.ok(dave.calls.some((c) => c.method === 'invite'))
    await dave.propose({ type: 'join', room, nick: 'Dave', presence: [] })
  })

  it('high mode: each message sealed for each member, opened from its own sender only', async () => {
    await alice.propose({
      type: 'create',
      room: 'secret',
      nick: 'Alice',
      config: { ...SETTINGS, mode: 'high' },
    })
    const high = alice.groups.rooms.groupOf('secret')!
    const highRoom = encodeAddress(high).toLowerCase()
    await alice.propose({ type: 'invite', room: 'secret', invitee: bob.jid })
    await net.quiet()
    await bob.propose({ type: 'join', room: highRoom, nick: 'Bob', presence: [] })
    await net.quiet()
    await alice.propose({
      type: 'message',
      room: 'secret',
      nick: 'Alice',
      id: 'h',
      payload: [xml('body', {}, 'sealed for you')],
    })
    await net.quiet()
    const shown = bob.calls.filter((c) => c.method === 'message' && c.room === highRoom)
    assert.equal(shown.length, 1)
    assert.equal(body((shown[0]!.args[0] as { payload: [] }).payload), '<body>sealed for you</body>')
  })

  it('above groups.directMax members relay along the tree: every member gets each message once', async () => {
    const tree = new FakeNetwork()
    const small = { directMax: 1, fanout: 2 }
    const [owner, ...others] = await Promise.all(
      ['o', 'p', 'q', 'r', 's'].map((name) => tree.add(name, small)),
    )
    await owner!.propose({ type: 'create', room: 'big', nick: 'O', config: SETTINGS })
    const bigRoom = encodeAddress(owner!.groups.rooms.groupOf('big')!).toLowerCase()
    for (const other of others) await owner!.propose({ type: 'invite', room: 'big', invitee: other.jid })
    await tree.quiet()
    for (const other of others)
      await other.propose({ type: 'join', room: bigRoom, nick: other.account, presence: [] })
    await tree.quiet()
    const before = tree.sent.length
    await owner!.propose({
      type: 'message',
      room: 'big',
      nick: 'O',
      id: 't',
      payload: [xml('body', {}, 'to all')],
    })
    await tree.quiet()
    const relayed = tree.sent
      .slice(before)
      .filter((s) => isGroupHop(s.body) && hex(s.from) !== hex(owner!.identity.publicKey))
    assert.ok(relayed.length > 0, 'members forwarded the packet')
    for (const other of others)
      assert.equal(other.calls.filter((c) => c.method === 'message').length, 1, other.account)
  })

  it("a newcomer's message names a state not yet here: held, the state asked of the newcomer, then shown", async () => {
    await bob.propose({ type: 'join', room, nick: 'Bob', presence: [] })
    await net.quiet()
    const dave = await net.add('dave')
    // The update adding dave is late on its way to bob.
    net.hold = (bytes, to, from) =>
      bytes[1] === 0x01 &&
      hex(to) === hex(bob.identity.publicKey) &&
      hex(from) === hex(alice.identity.publicKey)
    await alice.propose({ type: 'invite', room: 'team', invitee: dave.jid })
    await net.quiet()
    await dave.propose({ type: 'join', room, nick: 'Dave', presence: [] })
    await net.quiet()
    assert.ok(
      bob.calls.some((c) => c.method === 'join' && (c.args[0] as { nick: string }).nick === 'Dave'),
      'bob shows dave without the late update',
    )
    net.hold = () => false
    net.release()
    await net.quiet()
  })
})

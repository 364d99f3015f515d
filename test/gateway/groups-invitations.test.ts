import assert from 'node:assert/strict'
import { beforeEach, describe, it } from 'node:test'
import { createElement as xml } from 'ltx'
import type { GroupsConfig } from '../../bridge/config/sections/groups.js'
import { encodeAddress } from '../../bridge/crypto/address.js'
import type { Identity } from '../../bridge/crypto/identity.js'
import { GroupSession } from '../../bridge/messaging/groups/session.js'
import { isGroupHop } from '../../bridge/wire/group-hop.js'
import { body, type FakeBridge, FakeMailboxes, FakeNetwork } from './groups-helpers.js'

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const SETTINGS = { name: 'Team', description: 'd', membersOnly: true, mode: 'normal' as const }
const DAY = 24 * 60 * 60 * 1000

/** Group mailboxes in memory that count the fetches (of any epoch's mailbox) per fetching bridge. */
class CountingMailboxes extends FakeMailboxes {
  fetches = 0
  override async fetch(identity: Identity) {
    this.fetches++
    return super.fetch(identity)
  }
}

const shown = (bridge: FakeBridge) =>
  bridge.calls.filter((c) => c.method === 'message').map((c) => body((c.args[0] as { payload: [] }).payload))
const invited = (bridge: FakeBridge) => bridge.calls.filter((c) => c.method === 'invite').length
const destroyed = (bridge: FakeBridge) =>
  bridge.calls.filter((c) => c.method === 'destroy').map((c) => c.room)

describe('group gateway: invitations from strangers are held until the room is joined', () => {
  let net: FakeNetwork
  let alice: FakeBridge
  /** Knows nobody: alice is a stranger to her. */
  let bob: FakeBridge
  let bobMailboxes: CountingMailboxes
  /** Has alice as a contact. */
  let carol: FakeBridge
  let dave: FakeBridge
  let clock: number

  async function setUp(groups: Partial<GroupsConfig> = {}): Promise<void> {
    net = new FakeNetwork()
    const shared = new FakeMailboxes()
    clock = Date.now()
    // Above directMax + 1 members the tree relays: first-layer members forward along the ring.
    const config = { directMax: 1, ...groups }
    alice = await net.add('alice', config, shared)
    bobMailboxes = new CountingMailboxes()
    bobMailboxes.items = shared.items
    bob = await net.add('bob', config, bobMailboxes, { now: () => clock })
    bob.contacts = new Set()
    carol = await net.add('carol', config, shared)
    carol.contacts = new Set([hex(alice.identity.publicKey)])
    dave = await net.add('dave', config, shared)
  }

  async function team(name = 'team'): Promise<string> {
    await alice.propose({ type: 'create', room: name, nick: 'Alice', config: SETTINGS })
    for (const invitee of [bob, carol, dave])
      await alice.propose({ type: 'invite', room: name, invitee: invitee.jid })
    await net.quiet()
    return encodeAddress(alice.groups.rooms.groupOf(name)!).toLowerCase()
  }

  const say = async (text: string, room = 'team') => {
    await alice.propose({ type: 'message', room, nick: 'Alice', id: text, payload: [xml('body', {}, text)] })
    await net.quiet()
  }

  const hopsFrom = (bridge: FakeBridge) =>
    net.sent.filter((s) => hex(s.from) === hex(bridge.identity.publicKey) && isGroupHop(s.body)).length

  beforeEach(() => setUp())

  it("a stranger's invitation shows the room and the invitation, but the bridge neither relays nor syncs it", async () => {
    const room = await team()
    assert.equal(invited(bob), 1, 'the client is asked "join?"')
    assert.equal(bob.groups.rooms.groupOf(room) !== undefined, true, 'the room is there')
    assert.equal((await GroupSession.groupsOf(bob.store, bob.identity.publicKey)).length, 1, 'state kept')

    await say('hello')
    assert.equal(hopsFrom(bob), 0, 'bob forwarded nothing')
    assert.ok(hopsFrom(carol) > 0, 'carol, invited by a contact, relays as today')
    assert.deepEqual(shown(bob), [])
    assert.deepEqual(shown(carol), ['<body>hello</body>'])

    assert.equal(await bob.groups.catchUp(bob.identity), 0)
    assert.equal(bobMailboxes.fetches, 0, 'no group mailbox fetch while held')
  })

  it('joining the room takes the invitation up: the mailbox is synced and the bridge relays', async () => {
    const room = await team()
    await say('before the join')
    await bob.propose({ type: 'join', room, nick: 'Bob', presence: [] })
    await net.quiet()
    assert.ok(bobMailboxes.fetches > 0, 'the join synced the group mailbox')
    assert.deepEqual(shown(bob), ['<body>before the join</body>'], 'what waited in the mailbox came in')
    await say('after the join')
    assert.ok(hopsFrom(bob) > 0, 'bob relays now')
    assert.deepEqual(shown(bob), ['<body>before the join</body>', '<body>after the join</body>'])
    assert.equal(await bob.groups.catchUp(bob.identity), 0)
    assert.ok(bobMailboxes.fetches > 1, 'and syncs it from now on')
  })

  it('a decline drops the group and its room; later bodies of the group are ignored', async () => {
    const room = await team()
    await bob.propose({ type: 'decline', room, to: alice.jid })
    await net.quiet()
    assert.deepEqual(destroyed(bob), [room])
    assert.equal(bob.groups.rooms.groupOf(room), undefined)
    assert.deepEqual(await GroupSession.groupsOf(bob.store, bob.identity.publicKey), [])
    await say('are you there?')
    assert.deepEqual(shown(bob), [])
    assert.equal(hopsFrom(bob), 0)
  })

  it('at most groups.pendingInvitations are held per identity: the oldest is dropped', async () => {
    await setUp({ pendingInvitations: 2 })
    const first = await team('one')
    clock += 1000
    await team('two')
    clock += 1000
    await team('three')
    assert.deepEqual(destroyed(bob), [first])
    assert.equal((await GroupSession.groupsOf(bob.store, bob.identity.publicKey)).length, 2)
    assert.equal(invited(bob), 3, 'each was shown when it came')
  })

  it('a held invitation expires after groups.pendingInvitationMs; a joined one stays', async () => {
    const held = await team('held')
    const joined = await team('joined')
    await bob.propose({ type: 'join', room: joined, nick: 'Bob', presence: [] })
    await net.quiet()
    clock += 7 * DAY - 1000
    await bob.groups.expire()
    assert.deepEqual(destroyed(bob), [], 'not yet')
    clock += 1000
    await bob.groups.expire()
    assert.deepEqual(destroyed(bob), [held])
    assert.deepEqual((await GroupSession.groupsOf(bob.store, bob.identity.publicKey)).map(hex), [
      hex(alice.groups.rooms.groupOf('joined')!),
    ])
  })

  it('with groups.acceptStrangerInvitations a stranger invites as a contact does', async () => {
    await setUp({ acceptStrangerInvitations: true })
    await team()
    await say('hello')
    assert.ok(hopsFrom(bob) > 0)
    assert.deepEqual(shown(bob), ['<body>hello</body>'])
  })
})

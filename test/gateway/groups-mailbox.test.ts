import assert from 'node:assert/strict'
import { beforeEach, describe, it } from 'node:test'
import { createElement as xml } from 'ltx'
import type { GroupsConfig } from '../../bridge/config/sections/groups.js'
import type { Identity } from '../../bridge/crypto/identity.js'
import { isGroupHop } from '../../bridge/wire/group-hop.js'
import { waitUntil } from '../dht/helpers.js'
import { body, type FakeBridge, FakeMailboxes, FakeNetwork } from './groups-helpers.js'

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const SETTINGS = { name: 'Team', description: 'd', membersOnly: true, mode: 'normal' as const }
/** Above directMax + 1 members, the sender's presence view decides who the tree reaches. */
const SMALL_DIRECT = { directMax: 1 }

const shown = (bridge: FakeBridge) =>
  bridge.calls.filter((c) => c.method === 'message').map((c) => body((c.args[0] as { payload: [] }).payload))

describe('group gateway: offline members catch up from the group mailbox (fake mailboxes, in-memory messengers)', () => {
  let net: FakeNetwork
  let mailboxes: FakeMailboxes
  let alice: FakeBridge
  let bob: FakeBridge
  let carol: FakeBridge
  let dave: FakeBridge

  /** Alice makes "team" with bob, carol and dave: four members, above directMax + 1. */
  async function team(groups: Partial<GroupsConfig>): Promise<void> {
    net = new FakeNetwork()
    mailboxes = new FakeMailboxes()
    alice = await net.add('alice', groups, mailboxes)
    bob = await net.add('bob', groups, mailboxes)
    carol = await net.add('carol', groups, mailboxes)
    dave = await net.add('dave', groups, mailboxes)
    await alice.propose({ type: 'create', room: 'team', nick: 'Alice', config: SETTINGS })
    for (const invitee of [bob, carol, dave])
      await alice.propose({ type: 'invite', room: 'team', invitee: invitee.jid })
    await net.quiet()
  }

  const say = async (text: string) => {
    await alice.propose({
      type: 'message',
      room: 'team',
      nick: 'Alice',
      id: text,
      payload: [xml('body', {}, text)],
    })
    await net.quiet()
  }

  describe('above directMax + 1', () => {
    beforeEach(() => team(SMALL_DIRECT))

    it('a member the sender sees offline gets the message from the group mailbox once, never acked', async () => {
      // Carol is away: alice's messenger found her unreachable, and nothing reaches her bridge.
      alice.emit('unreachable', { from: alice.identity.publicKey, to: carol.identity.publicKey })
      const toCarol: Uint8Array[] = []
      net.hold = (held, to) => hex(to) === hex(carol.identity.publicKey) && toCarol.push(held) > 0
      await say('while you were away')
      // The plan left her out: no member forwarded her the packet.
      assert.equal(toCarol.filter(isGroupHop).length, 0)
      assert.deepEqual(shown(bob), ['<body>while you were away</body>'])
      assert.deepEqual(shown(dave), ['<body>while you were away</body>'])
      assert.deepEqual(shown(carol), [])
      // One deposit, one full-size item, in the group mailbox of the epoch.
      const deposited = [...mailboxes.items.values()].flat()
      assert.equal(deposited.length, 1)
      assert.equal(deposited[0]!.length, 959)

      // Carol is back: her catch-up opens it and the room shows it once.
      assert.equal(await carol.groups.catchUp(carol.identity), 1)
      await net.quiet()
      assert.deepEqual(shown(carol), ['<body>while you were away</body>'])
      // The next sync finds the same item (never acked: the others need it too) and shows nothing again.
      assert.equal(await carol.groups.catchUp(carol.identity), 0)
      assert.equal([...mailboxes.items.values()].flat().length, 1)
      // What the network held for her arrives late: still shown once.
      net.hold = () => false
      net.release()
      await net.quiet()
      assert.deepEqual(shown(carol), ['<body>while you were away</body>'])
    })

    it('a message too long for one group mailbox item goes to the offline member pairwise (its own mailbox), shown once', async () => {
      alice.emit('unreachable', { from: alice.identity.publicKey, to: carol.identity.publicKey })
      const toCarol: Uint8Array[] = []
      net.hold = (held, to) => hex(to) === hex(carol.identity.publicKey) && toCarol.push(held) > 0
      const long = 'x'.repeat(2000)
      await say(long)
      assert.deepEqual(shown(bob), [`<body>${long}</body>`])
      assert.equal([...mailboxes.items.values()].flat().length, 0, 'nothing in the group mailbox')
      assert.equal(toCarol.filter((b) => !isGroupHop(b)).length, 1, 'one pairwise copy for carol')
      assert.equal(await carol.groups.catchUp(carol.identity), 0)
      net.hold = () => false
      net.release()
      await net.quiet()
      assert.deepEqual(shown(carol), [`<body>${long}</body>`])
    })

    it('a copy over the tree and one from the mailbox are shown once', async () => {
      await say('hello all')
      // The tree reached everyone, and the sender deposited anyway (a tree can lose a subtree).
      assert.equal([...mailboxes.items.values()].flat().length, 1)
      for (const member of [bob, carol, dave]) {
        assert.equal(await member.groups.catchUp(member.identity), 0)
        await net.quiet()
        assert.deepEqual(shown(member), ['<body>hello all</body>'])
      }
    })
  })

  it('without a catch-up call, the groups.syncIntervalMs timer fetches the group mailbox', async () => {
    await team({ directMax: 1, syncIntervalMs: 1000 })
    alice.emit('unreachable', { from: alice.identity.publicKey, to: carol.identity.publicKey })
    net.hold = (_held, to) => hex(to) === hex(carol.identity.publicKey)
    await say('picked up by the sync')
    assert.deepEqual(shown(carol), [])
    await waitUntil('carol synced', () => shown(carol).length === 1, 5000)
    assert.deepEqual(shown(carol), ['<body>picked up by the sync</body>'])
    for (const bridge of [alice, bob, carol, dave]) bridge.groups.stop()
  })

  it('after a full fetch on return, the timer asks only for what came since the previous fetch', async () => {
    const since: (number | undefined)[] = []
    class Recording extends FakeMailboxes {
      override async fetch(identity: Identity, from?: number) {
        since.push(from)
        return super.fetch(identity)
      }
    }
    net = new FakeNetwork()
    const groups = { directMax: 1, syncIntervalMs: 1000 }
    alice = await net.add('alice', groups, new FakeMailboxes())
    bob = await net.add('bob', groups, new Recording())
    await alice.propose({ type: 'create', room: 'team', nick: 'Alice', config: SETTINGS })
    await alice.propose({ type: 'invite', room: 'team', invitee: bob.jid })
    await net.quiet()
    const before = Date.now()
    await bob.groups.catchUp(bob.identity)
    assert.deepEqual(since, [undefined], 'on return: everything')
    await waitUntil('bob synced by the timer', () => since.length >= 2, 5000)
    assert.ok(since[1]! >= before && since[1]! <= Date.now(), 'then: since the previous fetch began')
    await bob.groups.catchUp(bob.identity)
    assert.equal(since.at(-1), undefined, 'a return fetches everything again')
    for (const bridge of [alice, bob]) bridge.groups.stop()
  })

  it('up to directMax + 1 members nothing goes to the group mailbox: each member gets its own reliable copy', async () => {
    await team({ directMax: 20 })
    await say('small group')
    assert.equal(mailboxes.items.size, 0)
    for (const member of [bob, carol, dave]) assert.deepEqual(shown(member), ['<body>small group</body>'])
  })
})

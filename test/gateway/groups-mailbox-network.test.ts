import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { createElement as xml } from 'ltx'
import { type MailboxConfig, mailboxSection } from '../../bridge/config/sections/mailbox.js'
import { type Identity, identityFromSeed } from '../../bridge/crypto/identity.js'
import { dhtNodeId } from '../../bridge/dht/node-id.js'
import { periodAt } from '../../bridge/dht/period.js'
import { startTestnet, type Testnet } from '../../bridge/dht/testnet.js'
import { type GroupMailboxPort, networkGroupMailbox } from '../../bridge/gateway/groups/mailbox-port.js'
import { silentLogger } from '../../bridge/log.js'
import {
  closestTo,
  mailboxAddress,
  mailboxHolders,
  mailboxPeriodsSince,
} from '../../bridge/onion/mailbox-address.js'
import { MailboxClient } from '../../bridge/onion/mailbox-client.js'
import { MailboxHolder } from '../../bridge/onion/mailbox-holder.js'
import type { OnionRouter } from '../../bridge/onion/onion-router.js'
import { onionRelays } from '../../bridge/onion/testnet-relays.js'
import { openMemoryStore, type Store } from '../../bridge/store/index.js'
import { MailboxStatus } from '../../bridge/wire/mailbox.js'
import { allRelaysListed, FAST, waitUntil } from '../dht/helpers.js'
import { testOnionConfig } from '../onion/helpers.js'
import { body, type FakeBridge, FakeNetwork } from './groups-helpers.js'

const N = 10
const onion = testOnionConfig({ replyTimeoutMs: 2000 })
// A low difficulty keeps the stamps quick; bench/suites measure the default.
const mailbox: MailboxConfig = { ...mailboxSection.parse({}), stampDifficulty: 4 }
const SETTINGS = { name: 'Team', description: 'd', membersOnly: true, mode: 'normal' as const }
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const shown = (bridge: FakeBridge) =>
  bridge.calls.filter((c) => c.method === 'message').map((c) => body((c.args[0] as { payload: [] }).payload))

/** A member's group mailbox port: the real client of the testnet node it is set to (later), deposits counted. */
class Port implements GroupMailboxPort {
  client: MailboxClient | undefined
  readonly deposited: Uint8Array[] = []
  async deposit(to: Uint8Array, item: Uint8Array) {
    this.deposited.push(to)
    const outcomes = await this.client!.deposit(to, item)
    assert.ok(
      outcomes.every((o) => o.status === 'ok'),
      `deposited: ${JSON.stringify(outcomes)}`,
    )
    return outcomes
  }
  fetch(identity: Identity) {
    return this.client!.fetch(identity)
  }
}

describe(`group mailbox through the real MailboxClient on a ${N}-node testnet`, () => {
  let testnet: Testnet
  const routers = new Map<string, OnionRouter>()
  const holders: MailboxHolder[] = []
  const stores: Store[] = []
  const clients: MailboxClient[] = []
  /** Fetch requests every holder answered, and the items they sent. */
  const answered = { requests: 0, items: 0 }
  /** Holders (node key, hex) that answer every fetch `unavailable`. */
  const refusing = new Set<string>()

  const clientOn = (at: number) => {
    const node = testnet.nodes[at]!
    const client = new MailboxClient({
      router: routers.get(hex(node.nodeKey.publicKey))!,
      directory: node.service.directory,
      onion,
      config: mailbox,
      log: silentLogger,
    })
    clients.push(client)
    return client
  }

  before(async () => {
    testnet = await startTestnet({
      nodes: N,
      dht: FAST,
      attach: onionRelays(onion, silentLogger, {
        mailbox(node) {
          const holder = openMemoryStore().then((store) => {
            stores.push(store)
            const h = new MailboxHolder({ store, config: mailbox, log: silentLogger })
            holders.push(h)
            return h
          })
          return {
            deposit: async (d) => (await holder).deposit(d),
            fetch: async (f, b) => {
              if (refusing.has(hex(node.nodeKey.publicKey)))
                return { items: [], result: { status: MailboxStatus.unavailable, sent: 0, more: 0 } }
              const answer = await (await holder).fetch(f, b)
              answered.requests++
              answered.items += answer.items.length
              return answer
            },
            ack: async (a, b) => (await holder).ack(a, b),
          }
        },
        started: (router, node) => routers.set(hex(node.nodeKey.publicKey), router),
      }),
    })
    await allRelaysListed(testnet)
  })
  after(async () => {
    for (const client of clients) client.stop()
    await testnet?.stop()
    for (const store of stores) await store.close()
  })

  it('a member left out of the plan fetches the one deposit on return, from another node; the item stays for the others', async () => {
    const net = new FakeNetwork()
    const ports = ['alice', 'bob', 'carol', 'dave'].map(() => new Port())
    const [alice, bob, carol, dave] = await Promise.all(
      ['alice', 'bob', 'carol', 'dave'].map((name, i) => net.add(name, { directMax: 1 }, ports[i])),
    )
    for (const port of ports.slice(0, 2)) port.client = clientOn(1)
    ports[3]!.client = clientOn(2)
    await alice!.propose({ type: 'create', room: 'team', nick: 'Alice', config: SETTINGS })
    for (const invitee of [bob!, carol!, dave!])
      await alice!.propose({ type: 'invite', room: 'team', invitee: invitee.jid })
    await net.quiet()

    alice!.emit('unreachable', { from: alice!.identity.publicKey, to: carol!.identity.publicKey })
    net.hold = (_b, to) => hex(to) === hex(carol!.identity.publicKey)
    await alice!.propose({
      type: 'message',
      room: 'team',
      nick: 'Alice',
      id: 'm1',
      payload: [xml('body', {}, 'while you were away')],
    })
    await net.quiet()
    const total = async () => {
      let items = 0
      for (const holder of holders) items += (await holder.counts()).items
      return items
    }
    await waitUntil('the deposit at every holder', async () => (await total()) === mailbox.holders, 20_000)
    assert.equal(ports[0]!.deposited.length, 1)
    assert.deepEqual(shown(carol!), [])

    // Carol comes back on a node that holds none of the group mailbox's items (its directory lists them all).
    const { id } = mailboxAddress(ports[0]!.deposited[0]!, periodAt(Date.now(), mailbox.periodMs))
    const chosen = new Set(
      mailboxHolders(testnet.nodes[1]!.service.directory, id, mailbox.holders + 1, Date.now()).map(
        (h) => h.id,
      ),
    )
    const at = testnet.nodes.findIndex((n, i) => i > 1 && !chosen.has(hex(n.nodeKey.publicKey)))
    assert.ok(at > 1)
    ports[2]!.client = clientOn(at)
    assert.equal(await carol!.groups.catchUp(carol!.identity), 1)
    await net.quiet()
    assert.deepEqual(shown(carol!), ['<body>while you were away</body>'])
    // Fetched again: nothing new, and never acked (dave, on node 2, still finds it: his tree copy wins).
    assert.equal(await carol!.groups.catchUp(carol!.identity), 0)
    assert.equal(await dave!.groups.catchUp(dave!.identity), 0)
    assert.deepEqual(shown(dave!), ['<body>while you were away</body>'])
    assert.equal(await total(), mailbox.holders)
  })

  it('a routine round downloads nothing it fetched before: cursors per holder, the two closest holders', async () => {
    // A group whose mailbox holders (of today) are neither the sender's node nor the member's: both
    // directories then list all k, and each deposit reaches all k. So the group comes first, then the
    // two nodes: which two nodes a group's holders can miss depends on the testnet's random keys (two
    // fixed nodes were, in one run, always among the holders).
    await allRelaysListed(testnet) // a directory may have pruned relays not seen lately (a loaded machine)
    const group = identityFromSeed(randomBytes(32))
    const { id: today } = mailboxAddress(group.publicKey, periodAt(Date.now(), mailbox.periodMs))
    const everyone = testnet.nodes.map((node, at) => ({
      id: String(at),
      dhtId: dhtNodeId(node.nodeKey.publicKey),
    }))
    const held = new Set(closestTo(today, everyone, mailbox.holders).map((node) => Number(node.id)))
    const [senderAt, memberAt] = testnet.nodes.map((_, at) => at).filter((at) => !held.has(at)) as [
      number,
      number,
    ]
    const sender = clientOn(senderAt)
    // One client, as a bridge has (its cursors live in it).
    const member = clientOn(memberAt)
    const port = networkGroupMailbox({ client: () => member, mailbox, routineHolders: 2, now: Date.now })
    const item = (i: number) => new Uint8Array(959).fill(i)
    const deposit = async (i: number) =>
      assert.ok((await sender.deposit(group.publicKey, item(i))).every((o) => o.status === 'ok'))
    const round = async (since?: number) => {
      const before = { ...answered }
      const items = await port.fetch(group, since)
      return {
        items: items.map((i) => i.item[0]),
        requests: answered.requests - before.requests,
        sent: answered.items - before.items,
      }
    }
    for (const i of [1, 2, 3]) await deposit(i)

    const full = await round()
    assert.deepEqual(full.items.sort(), [1, 2, 3])
    // Every period of the retention at all k + 2 holders; the k that keep them send each.
    assert.equal(full.requests, (mailbox.retentionMs / mailbox.periodMs + 1) * (mailbox.holders + 2))
    assert.equal(full.sent, 3 * mailbox.holders)

    const since = Date.now() - 300_000
    // The periods since (two, or three just after a period's start), at two holders each.
    const routine = 2 * mailboxPeriodsSince(Date.now(), since, mailbox.periodMs, mailbox.retentionMs).length
    const idle = await round(since)
    assert.deepEqual(idle, { items: [], requests: routine, sent: 0 })

    await deposit(4)
    const fresh = await round(since)
    assert.deepEqual(fresh, { items: [4], requests: routine, sent: 2 })
    assert.deepEqual(await round(since), { items: [], requests: routine, sent: 0 })

    // The closest holder refuses: the third closest stands in, from its cursor of the full round (4 and 5).
    const closest = mailboxHolders(testnet.nodes[memberAt]!.service.directory, today, 1, Date.now())[0]!
    refusing.add(closest.id)
    await deposit(5)
    const standIn = await round(since)
    assert.deepEqual(standIn.items.sort(), [4, 5])
    assert.equal(standIn.sent, 1 + 2)
    assert.deepEqual(await round(since), { items: [], requests: routine, sent: 0 })
    refusing.clear()

    // A full round starts the cursors over: everything again, from every holder.
    const again = await round()
    assert.deepEqual(again.items.sort(), [1, 2, 3, 4, 5])
    assert.equal(again.sent, 5 * mailbox.holders)
  })
})

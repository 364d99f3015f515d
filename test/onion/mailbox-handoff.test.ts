import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { type MailboxConfig, mailboxSection } from '../../bridge/config/sections/mailbox.js'
import { mintStamp } from '../../bridge/crypto/stamp.js'
import { silentLogger } from '../../bridge/log.js'
import { closestTo, type PlacedNode } from '../../bridge/onion/mailbox-address.js'
import { MailboxHandoff, type PlanItem, planHandoff } from '../../bridge/onion/mailbox-handoff.js'
import { MailboxHolder } from '../../bridge/onion/mailbox-holder.js'
import { openMemoryStore } from '../../bridge/store/index.js'
import { MAILBOX_STATUS_NAMES, type MailboxStatusName } from '../../bridge/wire/mailbox.js'
import { waitUntil } from '../dht/helpers.js'

const K = 5
const node = (id: string): PlacedNode => ({ id, dhtId: randomBytes(20) })
const nodes = Array.from({ length: 20 }, (_, i) => node(`n${i}`))
const mailboxId = randomBytes(20)
/** Every node by distance to the mailbox id, closest first. */
const ranked = closestTo(mailboxId, nodes, nodes.length)
const ids = (list: PlacedNode[]) => list.map((n) => n.id)
const item = (to: string[] | undefined, key = 'a'): PlanItem => ({
  key,
  mailboxId,
  storedAt: 1000,
  stamp: new Uint8Array(8),
  to,
})
const pushTargets = (plan: { pushes: { target: string }[] }) => plan.pushes.map((p) => p.target).sort()

describe('planHandoff: which held items go to whom', () => {
  it('a responsible holder seeing an item first assumes the other responsible relays have it from the depositor', () => {
    const self = ranked[2]!
    const plan = planHandoff({ self, relays: nodes, items: [item(undefined)], k: K, budget: 100 })
    assert.deepEqual(
      plan.baselines.map((b) => b.to.sort()),
      [
        ids(ranked.slice(0, K))
          .filter((id) => id !== self.id)
          .sort(),
      ],
    )
    assert.deepEqual(plan.pushes, [])
    assert.deepEqual(plan.releases, [])
    assert.equal(plan.planned, 1)
  })

  it('counts itself although its directory does not list it', () => {
    const self = ranked[0]!
    const relays = nodes.filter((n) => n !== self)
    const plan = planHandoff({ self, relays, items: [item(undefined)], k: K, budget: 100 })
    assert.deepEqual(plan.baselines[0]!.to.sort(), ids(ranked.slice(1, K)).sort())
  })

  it('at first sight, assumes nothing of a relay its directory listed only after the item was stored', () => {
    const self = ranked[1]!
    const relays = nodes.map((n) => (n === ranked[0] ? { ...n, since: 2000 } : { ...n, since: 500 }))
    const plan = planHandoff({ self, relays, items: [item(undefined)], k: K, budget: 100 })
    assert.deepEqual(pushTargets(plan), [ranked[0]!.id])
    assert.deepEqual(plan.baselines[0]!.to.sort(), ids(ranked.slice(2, K)).sort())
  })

  it('pushes to a relay that became responsible, and to nobody already known to keep the item', () => {
    const self = ranked[1]!
    // The holder knew ranks 1..5; rank 0 joined since.
    const known = ids(ranked.slice(2, K + 1))
    const plan = planHandoff({ self, relays: nodes, items: [item(known)], k: K, budget: 100 })
    assert.deepEqual(pushTargets(plan), [ranked[0]!.id])
    assert.deepEqual(plan.baselines, [])
    assert.deepEqual(plan.releases, [], 'still responsible: keeps it')
  })

  it('a holder no longer responsible pushes to all k, and drops the item once every one of them keeps it', () => {
    const self = ranked[K + 3]!
    const first = planHandoff({ self, relays: nodes, items: [item(undefined)], k: K, budget: 100 })
    assert.deepEqual(first.baselines[0]!.to, [], 'assumes nothing: it was not among the depositor’s holders')
    assert.deepEqual(pushTargets(first), ids(ranked.slice(0, K)).sort())
    assert.deepEqual(first.releases, [])
    const partly = planHandoff({
      self,
      relays: nodes,
      items: [item(ids(ranked.slice(0, K - 1)))],
      k: K,
      budget: 100,
    })
    assert.deepEqual(pushTargets(partly), [ranked[K - 1]!.id])
    assert.deepEqual(partly.releases, [])
    const done = planHandoff({
      self,
      relays: nodes,
      items: [item(ids(ranked.slice(0, K)))],
      k: K,
      budget: 100,
    })
    assert.deepEqual(done.pushes, [])
    assert.equal(done.releases.length, 1)
  })

  it('keeps an item without a stamp where it is: it cannot be pushed, so it is never dropped', () => {
    const self = ranked[K + 3]!
    const plan = planHandoff({
      self,
      relays: nodes,
      items: [{ ...item([]), stamp: undefined }],
      k: K,
      budget: 100,
    })
    assert.deepEqual(plan.pushes, [])
    assert.deepEqual(plan.releases, [])
  })

  it('skips the pushes it is told to (refused before, target unreachable)', () => {
    const self = ranked[K + 3]!
    const skipped = ranked[0]!.id
    const plan = planHandoff({
      self,
      relays: nodes,
      items: [item([])],
      k: K,
      budget: 100,
      skip: (_key, target) => target === skipped,
    })
    assert.deepEqual(pushTargets(plan), ids(ranked.slice(1, K)).sort())
    assert.deepEqual(plan.releases, [], 'not every responsible relay keeps it')
  })

  it('stops at the budget: the item that does not fit is pushed in part and left for the next round', () => {
    const self = ranked[K + 3]!
    const items = ['a', 'b', 'c'].map((key) => item([], key))
    const plan = planHandoff({ self, relays: nodes, items, k: K, budget: 7 })
    assert.equal(plan.pushes.length, 7)
    assert.equal(plan.planned, 1)
    assert.deepEqual(
      plan.pushes.map((p) => p.item.key),
      ['a', 'a', 'a', 'a', 'a', 'b', 'b'],
    )
  })
})

describe('MailboxHandoff rounds (holders on memory stores, deposits handed straight to the target holder)', () => {
  const config: MailboxConfig = { ...mailboxSection.parse({}), stampDifficulty: 0, handoffPushesPerRound: 7 }
  const expiry = Math.floor(Date.now() / 1000) + 3600

  async function network(count: number, overrides: Partial<MailboxConfig> = {}) {
    const settings = { ...config, ...overrides }
    const holders = new Map<string, MailboxHolder>()
    const placedNodes = Array.from({ length: count }, (_, i) => node(`h${i}`))
    for (const n of placedNodes)
      holders.set(n.id, new MailboxHolder({ store: await openMemoryStore(), config, log: silentLogger }))
    const order = closestTo(mailboxId, placedNodes, count)
    const down = new Set<string>()
    const answers = new Map<string, MailboxStatusName>()
    const sent: string[] = []
    let relays = order.slice(0, count)
    const handoffOf = (self: PlacedNode) =>
      new MailboxHandoff({
        holder: holders.get(self.id)!,
        self,
        relays: () => relays.filter((r) => r.id !== self.id),
        transport: {
          async push(target, deposit) {
            sent.push(target)
            if (down.has(target)) return 'failed'
            const forced = answers.get(target)
            if (forced) return forced
            return MAILBOX_STATUS_NAMES.get((await holders.get(target)!.deposit(deposit)).status)!
          },
        },
        config: settings,
        log: silentLogger,
      })
    const deposit = async (to: PlacedNode[], items: number) => {
      for (let i = 0; i < items; i++) {
        const item = new Uint8Array(randomBytes(100))
        const stamp = mintStamp({ mailboxId, item, expiry }, 0)
        for (const n of to) await holders.get(n.id)!.deposit({ mailboxId, item, expiry, stamp })
      }
    }
    return {
      order,
      down,
      answers,
      sent,
      handoffOf,
      deposit,
      count: async (n: PlacedNode) => (await holders.get(n.id)!.counts()).items,
      setRelays: (list: PlacedNode[]) => {
        relays = list
      },
    }
  }

  it('pushes each item once to a relay that became responsible, within the per-round budget', async () => {
    const net = await network(8)
    const [newcomer, ...rest] = net.order
    // Deposited with ranks 1..5 while rank 0 was not yet listed.
    net.setRelays(rest)
    await net.deposit(rest.slice(0, K), 10)
    const holder = net.handoffOf(rest[0]!)
    await holder.round()
    assert.equal(holder.counts().pushed, 0, 'first sight: the other holders got it from the depositor')
    net.setRelays(net.order)
    await holder.round()
    assert.equal(holder.counts().pushed, 7, 'the budget')
    await holder.round()
    assert.equal(holder.counts().pushed, 10)
    assert.equal(await net.count(newcomer!), 10)
    await holder.round()
    assert.equal(net.sent.length, 10, 'nothing sent twice')
  })

  it('retries a target that did not answer, never one that refused, and keeps what a responsible relay lacks', async () => {
    const net = await network(9, { handoffPushesPerRound: 100 })
    const outsider = net.order[K + 1]!
    await net.deposit([outsider], 2)
    const handoff = net.handoffOf(outsider)
    net.down.add(net.order[0]!.id)
    net.answers.set(net.order[1]!.id, 'overQuota')
    await handoff.round()
    assert.deepEqual(handoff.counts(), { rounds: 1, pushed: 6, refused: 2, failed: 1, released: 0 })
    net.down.clear()
    await handoff.round()
    assert.equal(handoff.counts().pushed, 8, 'the silent relay got both in the next round')
    assert.equal(handoff.counts().refused, 2, 'the refusing one was not asked again')
    assert.equal(await net.count(outsider), 2, 'kept: one responsible relay lacks the items')
  })

  it('drops the items once every responsible relay keeps them', async () => {
    const net = await network(9, { handoffPushesPerRound: 100 })
    const outsider = net.order[K + 1]!
    await net.deposit([outsider], 3)
    const handoff = net.handoffOf(outsider)
    await handoff.round()
    await handoff.round()
    assert.equal(handoff.counts().pushed, 15)
    assert.equal(handoff.counts().released, 3)
    assert.equal(await net.count(outsider), 0)
    for (const n of net.order.slice(0, K)) assert.equal(await net.count(n), 3)
  })

  it('a holder pages through its items for the handoff past expired ones awaiting the sweep', async () => {
    let now = Date.now()
    const holder = new MailboxHolder({
      store: await openMemoryStore(),
      config,
      log: silentLogger,
      now: () => now,
    })
    const expiries = [60, 60, 60, 7200, 7200].map((s) => Math.floor(now / 1000) + s)
    for (const expiry of expiries) {
      const item = new Uint8Array(randomBytes(100))
      await holder.deposit({ mailboxId, item, expiry, stamp: mintStamp({ mailboxId, item, expiry }, 0) })
    }
    now += 3600_000
    const seen: number[] = []
    for (let page = await holder.heldItems(undefined, 1); page.length > 0; ) {
      seen.push(...page.map((i) => i.expiry))
      page = await holder.heldItems(page.at(-1)!.key, 1)
    }
    assert.deepEqual(seen, expiries.slice(3))
  })

  it('once started, runs a round when the directory changes', async () => {
    const net = await network(8, { handoffCheckMs: 1000 })
    const [newcomer, ...rest] = net.order
    net.setRelays(rest)
    await net.deposit(rest.slice(0, K), 2)
    const handoff = net.handoffOf(rest[0]!)
    handoff.start()
    try {
      await waitUntil('a first round', () => handoff.counts().rounds === 1, 5000)
      net.setRelays(net.order)
      await waitUntil('the newcomer got the items', async () => (await net.count(newcomer!)) === 2, 5000)
    } finally {
      handoff.stop()
    }
  })
})

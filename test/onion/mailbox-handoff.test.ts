import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { closestTo, type PlacedNode } from '../../bridge/onion/mailbox-address.js'
import { type PlanItem, planHandoff } from '../../bridge/onion/mailbox-handoff.js'

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

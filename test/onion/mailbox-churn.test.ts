import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { type MailboxConfig, mailboxSection } from '../../bridge/config/sections/mailbox.js'
import { generateIdentity, type Identity } from '../../bridge/crypto/identity.js'
import { dhtNodeId } from '../../bridge/dht/node-id.js'
import { periodAt } from '../../bridge/dht/period.js'
import { startTestnet, type Testnet, type TestnetNode } from '../../bridge/dht/testnet.js'
import { silentLogger } from '../../bridge/log.js'
import {
  closestTo,
  mailboxAddress,
  mailboxHolders,
  type PlacedNode,
} from '../../bridge/onion/mailbox-address.js'
import { MailboxClient } from '../../bridge/onion/mailbox-client.js'
import { type MailboxHandoff, networkHandoff } from '../../bridge/onion/mailbox-handoff.js'
import { MailboxHolder } from '../../bridge/onion/mailbox-holder.js'
import type { OnionRouter } from '../../bridge/onion/onion-router.js'
import { onionRelays } from '../../bridge/onion/testnet-relays.js'
import { openStore, type Store } from '../../bridge/store/index.js'
import { ENVELOPE_LENGTH } from '../../bridge/wire/envelope.js'
import { FAST, waitUntil } from '../dht/helpers.js'
import { testOnionConfig } from './helpers.js'

const NODES = 12
const ITEMS = 20
const HOUR = 3_600_000
const onion = testOnionConfig({ replyTimeoutMs: 1000 })
const mailbox: MailboxConfig = { ...mailboxSection.parse({}), stampDifficulty: 4 }
const K = mailbox.holders

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')
const envelope = () => globalThis.crypto.getRandomValues(new Uint8Array(ENVELOPE_LENGTH))
const placed = (nodeKey: Uint8Array): PlacedNode => ({ id: hex(nodeKey), dhtId: dhtNodeId(nodeKey) })

/** One testnet node with its holder and handoff. */
interface Holding {
  node: TestnetNode
  holder: MailboxHolder
  handoff: MailboxHandoff
  router: OnionRouter
}

describe(`mailboxes survive churn: holders hand their items on (${NODES}-node testnet, k = ${K})`, () => {
  let dir: string
  let testnet: Testnet
  /** The holders' clock runs `skew` ms ahead of the system clock. */
  let skew = 0
  const stores: Store[] = []
  const holdings = new Map<string, Omit<Holding, 'node'>>()
  const pending = new Map<string, MailboxHolder>()

  const holdingOf = (node: TestnetNode): Holding => ({ node, ...holdings.get(hex(node.nodeKey.publicKey))! })
  const everyone = () => testnet.nodes.map(holdingOf)
  const running = () => everyone().filter((h) => h.node.running)
  const clientOn = (node: TestnetNode, config = mailbox) =>
    new MailboxClient({
      router: holdingOf(node).router,
      directory: node.service.directory,
      onion,
      config,
      log: silentLogger,
    })
  /** Every running node, closest to `mailboxId` first. */
  const ranked = (mailboxId: Uint8Array) =>
    closestTo(
      mailboxId,
      running().map((h) => ({ ...placed(h.node.nodeKey.publicKey), h })),
      testnet.nodes.length,
    ).map((p) => p.h)
  /** A node key closer to `mailboxId` than every running node. */
  const keyClosest = (mailboxId: Uint8Array): Identity => {
    const best = placed(ranked(mailboxId)[0]!.node.nodeKey.publicKey)
    for (;;) {
      const key = generateIdentity()
      if (closestTo(mailboxId, [best, placed(key.publicKey)], 1)[0]!.id !== best.id) return key
    }
  }
  const discovered = (what: string) =>
    waitUntil(
      what,
      async () => {
        await testnet.discoverRelays()
        const ids = running().map((h) => hex(h.node.nodeKey.publicKey))
        return running().every((h) =>
          ids.every((id) => id === hex(h.node.nodeKey.publicKey) || h.node.service.directory.get(id)),
        )
      },
      30_000,
    )
  const handoffRound = () => Promise.all(running().map((h) => h.handoff.round()))
  /** The items of `mailboxId` each of `holders` keeps (unexpired). */
  const keptIn = async (mailboxId: Uint8Array, holders: Holding[]) =>
    Promise.all(
      holders.map(async (h) =>
        (await h.holder.heldItems(undefined, 10_000)).filter((i) => i.key.startsWith(hex(mailboxId))),
      ),
    )

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'paranoim-mailbox-churn-'))
    // The initial nodes and those the tests add.
    for (let i = 0; i < NODES + 6; i++) stores.push(await openStore({ dataDir: join(dir, String(i)) }))
    testnet = await startTestnet({
      nodes: NODES,
      dht: FAST,
      attach: onionRelays(onion, silentLogger, {
        mailbox(node) {
          const store = stores[pending.size]!
          const holder = new MailboxHolder({
            store,
            config: mailbox,
            log: silentLogger,
            now: () => Date.now() + skew,
          })
          pending.set(hex(node.nodeKey.publicKey), holder)
          return holder
        },
        started(router, node) {
          const id = hex(node.nodeKey.publicKey)
          const holder = pending.get(id)!
          const handoff = networkHandoff({
            holder,
            router,
            directory: node.service.directory,
            onion,
            config: mailbox,
            log: silentLogger,
          })
          holdings.set(id, { holder, handoff, router })
        },
      }),
    })
    await discovered('every directory lists the other relays')
  })
  after(async () => {
    for (const h of holdings.values()) h.handoff.stop()
    await testnet?.stop()
    for (const store of stores) await store.close()
    await rm(dir, { recursive: true, force: true })
  })

  it('holders killed and replaced: the items reach the new holders while the sender is offline, and the recipient gets them all', async () => {
    // The bootstrap node (node 0) stays: later nodes join through it.
    let bob: Identity
    let mailboxId: Uint8Array
    let order: Holding[]
    do {
      bob = generateIdentity()
      mailboxId = mailboxAddress(bob.publicKey, periodAt(Date.now(), mailbox.periodMs)).id
      order = ranked(mailboxId)
    } while (order.slice(0, K).some((h) => h.node.index === 0))
    const [senderNode, fetcherNode] = [order.at(-1)!.node, order.at(-2)!.node]
    const originals = order.slice(0, K)

    const sender = clientOn(senderNode)
    const sent = Array.from({ length: ITEMS }, envelope)
    for (const item of sent)
      assert.deepEqual(
        (await sender.deposit(bob.publicKey, item)).map((o) => o.status),
        Array(K).fill('ok'),
      )
    sender.stop()
    for (const [i, items] of (await keptIn(mailboxId, originals)).entries())
      assert.equal(items.length, ITEMS, `original holder ${i}`)

    // The depositor's holders agree on who is responsible: nobody pushes anything.
    await handoffRound()
    assert.equal(
      running().reduce((sum, h) => sum + h.handoff.counts().pushed, 0),
      0,
      'the depositor already reached every responsible relay',
    )

    // Three of the five holders go; three relays join, two of them closer to the mailbox than any.
    for (const h of [originals[0]!, originals[2]!, originals[4]!]) await h.node.stop()
    const joined = [
      await testnet.addNode(keyClosest(mailboxId)),
      await testnet.addNode(keyClosest(mailboxId)),
      await testnet.addNode(),
    ]
    await discovered('every directory lists the new relays')
    await handoffRound()
    const closer = joined.slice(0, 2).map(holdingOf)
    for (const [i, items] of (await keptIn(mailboxId, closer)).entries())
      assert.equal(items.length, ITEMS, `new holder ${i} got every item`)
    // A second round sends nothing again to whoever confirmed.
    const pushed = running().reduce((sum, h) => sum + h.handoff.counts().pushed, 0)
    await handoffRound()
    assert.equal(
      running().reduce((sum, h) => sum + h.handoff.counts().pushed, 0),
      pushed,
      'no item is pushed twice to one relay',
    )

    const recipient = clientOn(fetcherNode)
    const fetched = await recipient.fetch(bob)
    assert.deepEqual(new Set(fetched.map((f) => hex(f.item))), new Set(sent.map(hex)))
    recipient.stop()

    // The last original holders go too: the mailbox lives on at the new ones.
    for (const h of [originals[1]!, originals[3]!]) await h.node.stop()
    const later = clientOn(fetcherNode)
    const again = await later.fetch(bob)
    assert.equal(again.length, ITEMS)
    assert.deepEqual(new Set(again.map((f) => hex(f.item))), new Set(sent.map(hex)))
    later.stop()
  })

  it('expiry under a fake clock: handed-off copies keep the original expiry and are gone from every holder after it', async () => {
    // The sender's directory may still list holders stopped above: a mailbox whose holders, as the
    // sender sees them, are mostly alive, so the deposits do not hinge on how soon dead ones go stale.
    const alive = new Set(running().map((h) => hex(h.node.nodeKey.publicKey)))
    let carol: Identity
    let mailboxId: Uint8Array
    let order: Holding[]
    let senderNode: TestnetNode
    do {
      carol = generateIdentity()
      mailboxId = mailboxAddress(carol.publicKey, periodAt(Date.now(), mailbox.periodMs)).id
      order = ranked(mailboxId)
      senderNode = order.at(-1)!.node
    } while (
      mailboxHolders(senderNode.service.directory, mailboxId, K, Date.now()).filter((e) => alive.has(e.id))
        .length < 3
    )
    const sender = clientOn(senderNode, { ...mailbox, retentionMs: HOUR })
    for (let i = 0; i < 3; i++)
      assert.ok((await sender.deposit(carol.publicKey, envelope())).some((o) => o.status === 'ok'))
    sender.stop()
    const expiries = new Map((await keptIn(mailboxId, running())).flat().map((i) => [i.key, i.expiry]))
    assert.equal(expiries.size, 3)

    const newcomer = holdingOf(await testnet.addNode(keyClosest(mailboxId)))
    await discovered('every directory lists the newcomer')
    await handoffRound()
    const copies = (await keptIn(mailboxId, [newcomer]))[0]!
    assert.equal(copies.length, 3, 'the newcomer got the items')
    for (const copy of copies) assert.equal(copy.expiry, expiries.get(copy.key), 'with the original expiry')

    const all = everyone()
    const held = (await keptIn(mailboxId, all)).map((items) => items.length)
    const before = await Promise.all(all.map(async (h) => (await h.holder.counts()).items))
    skew = 2 * HOUR
    for (const [i, h] of all.entries()) {
      assert.equal(await h.holder.sweep(), held[i], `holder ${i} deletes exactly its expired copies`)
      assert.equal((await h.holder.counts()).items, before[i]! - held[i]!)
    }
    const recipient = clientOn(order.at(-2)!.node)
    assert.deepEqual(await recipient.fetch(carol), [])
    recipient.stop()
    skew = 0
  })
})

import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { type MailboxConfig, mailboxSection } from '../../bridge/config/sections/mailbox.js'
import type { MessagingConfig } from '../../bridge/config/sections/messaging.js'
import { generateIdentity, type Identity } from '../../bridge/crypto/identity.js'
import { periodAt } from '../../bridge/dht/period.js'
import { startTestnet, type Testnet, type TestnetNode } from '../../bridge/dht/testnet.js'
import { silentLogger } from '../../bridge/log.js'
import { EnvelopeSealer } from '../../bridge/messaging/envelope.js'
import type { MailboxPort } from '../../bridge/messaging/mailbox-port.js'
import { type InboundMessage, type MessageTransport, Messenger } from '../../bridge/messaging/messenger.js'
import { messagingTables } from '../../bridge/messaging/tables.js'
import { OnionError } from '../../bridge/onion/errors.js'
import { mailboxAddress, mailboxHolders } from '../../bridge/onion/mailbox-address.js'
import { MailboxClient } from '../../bridge/onion/mailbox-client.js'
import { type MailboxHandler, MailboxHolder } from '../../bridge/onion/mailbox-holder.js'
import type { OnionRouter } from '../../bridge/onion/onion-router.js'
import { onionRelays } from '../../bridge/onion/testnet-relays.js'
import { openMemoryStore, openStore, type Store, type Table } from '../../bridge/store/index.js'
import { ENVELOPE_LENGTH } from '../../bridge/wire/envelope.js'
import { DATA_HEADER_BYTES } from '../../bridge/wire/frame.js'
import { MailboxStatus } from '../../bridge/wire/mailbox.js'
import { allRelaysListed, FAST, waitUntil } from '../dht/helpers.js'
import { testOnionConfig } from '../onion/helpers.js'
import { tempDir, testConfig } from './messenger-harness.js'

const N = 10
const onion = testOnionConfig({ replyTimeoutMs: 2000 })
// A low difficulty keeps the stamps quick; bench/suites measure the default.
const mailbox: MailboxConfig = { ...mailboxSection.parse({}), stampDifficulty: 4 }
/** Deposits after 300 ms of silence; again after 1.5 s (the schema's minimums are for real use). */
const messaging = (overrides: Partial<MessagingConfig> = {}) =>
  testConfig({ depositAfterMs: 300, redepositIntervalMs: 1500, retryInitialMs: 200, ...overrides })

const entries = async <T>(table: Table<T>) => {
  const all: [string, T][] = []
  for await (const entry of table.entries()) all.push(entry)
  return all
}
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')
const text = (m: InboundMessage) => new TextDecoder().decode(m.body)
const bytes = (s: string) => new TextEncoder().encode(s)

/** The direct path between messengers, in process: an address nobody serves has no record, as on the DHT. */
class Direct {
  readonly online = new Map<string, Messenger>()
  transport(): MessageTransport {
    return {
      send: async (to, envelope) => {
        const messenger = this.online.get(hex(to))
        if (!messenger) throw new OnionError('NO_RECORD', 'no rendezvous record for this address')
        setImmediate(() => void messenger.receive(to, envelope))
      },
      forget: () => {},
    }
  }
}

/** A mailbox port that counts what goes through it and lets a test hold up acks. */
class Watched implements MailboxPort {
  /** Deposits answered. */
  deposits = 0
  acks = 0
  /** An ack that never returns: the bridge died between fetch and ack. */
  hangAcks = false
  constructor(private readonly client: MailboxClient) {}
  async deposit(to: Uint8Array, envelope: Uint8Array) {
    const outcomes = await this.client.deposit(to, envelope)
    this.deposits++
    return outcomes
  }
  fetch(identity: Identity) {
    return this.client.fetch(identity)
  }
  async ack(identity: Identity, ids: Uint8Array[]) {
    if (this.hangAcks) return new Promise<never>(() => {})
    this.acks++
    return this.client.ack(identity, ids)
  }
}

interface Side {
  identity: Identity
  store: Store
  messenger: Messenger
  port: Watched
  delivered: InboundMessage[]
}

describe(`messenger offline delivery through the real MailboxClient on a ${N}-node testnet`, () => {
  let dir: string
  let testnet: Testnet
  const holders = new Map<string, MailboxHolder>()
  const routers = new Map<string, OnionRouter>()
  /** Holders that answer `unavailable` (gone) while true. */
  let holdersGone = false
  const stores: Store[] = []
  const direct = new Direct()
  const clients: MailboxClient[] = []
  const running: Side[] = []

  const clientOn = (node: TestnetNode) => {
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

  /** A bridge's messaging on testnet node `at`, its LevelDB in `name` (reopened on restart). */
  async function startSide(
    name: string,
    identity: Identity,
    at: number,
    config = messaging(),
    maxFrameBytes?: number,
  ): Promise<Side> {
    const port = new Watched(clientOn(testnet.nodes[at]!))
    const store = await openStore({ dataDir: join(dir, name) })
    const delivered: InboundMessage[] = []
    const messenger = new Messenger({
      store,
      transport: direct.transport(),
      sealer: new EnvelopeSealer({ store, config }),
      config,
      log: silentLogger,
      deliver: async (m) => void delivered.push(m),
      ...(maxFrameBytes ? { maxFrameBytes } : {}),
      mailbox: { port, holders: mailbox.holders, concurrency: 2, fetchIntervalMs: 600_000 },
    })
    messenger.addIdentity(identity)
    direct.online.set(hex(identity.publicKey), messenger)
    const side = { identity, store, messenger, port, delivered }
    running.push(side)
    return side
  }

  async function stopSide(side: Side): Promise<void> {
    direct.online.delete(hex(side.identity.publicKey))
    running.splice(running.indexOf(side), 1)
    await side.messenger.stop()
    await side.store.close()
  }

  /**
   * A node that is not one of `identity`'s holders: a node's directory never
   * lists itself, so a recipient cannot yet reach what its own node holds.
   */
  function outside(identity: Identity, avoid: number[] = []): number {
    const { id } = mailboxAddress(identity.publicKey, periodAt(Date.now(), mailbox.periodMs))
    // Any sender's k holders are among the k + 1 closest of all nodes: node 1's k + 1 and node 1.
    const chosen = new Set(
      mailboxHolders(testnet.nodes[1]!.service.directory, id, mailbox.holders + 1, Date.now()).map(
        (h) => h.id,
      ),
    )
    const at = testnet.nodes.findIndex(
      (n, i) => i > 1 && !avoid.includes(i) && !chosen.has(hex(n.nodeKey.publicKey)),
    )
    assert.ok(at > 1, 'a node outside the mailbox’s holders')
    return at
  }

  /**
   * Alice and Bob were never online together: Bob's acknowledgement waits in
   * Alice's mailbox (the only item left anywhere), and her restarted bridge's
   * first fetch empties her outbox.
   */
  async function aliceAcked(alice: Side, pending: number): Promise<void> {
    assert.equal(await held(), mailbox.holders, 'one acknowledgement, at every holder of Alice’s mailbox')
    await waitUntil('alice’s outbox loaded', () => alice.messenger.counts().outbox === pending)
    assert.equal((await alice.messenger.fetchMailbox(alice.identity.publicKey))?.acked, 1)
    assert.equal(alice.messenger.counts().outbox, 0)
    await holdersEmptied(alice)
    await stopSide(alice)
  }

  /**
   * Until every holder deleted what `side` acked. An ack that timed out (a starved CI machine) is
   * sent again with the next fetch round, as the fetch timer would; the round finds only duplicates.
   */
  async function holdersEmptied(side: Side): Promise<void> {
    await waitUntil(
      'the holders deleted what was acked',
      async () => {
        if ((await held()) === 0) return true
        await side.messenger.fetchMailbox(side.identity.publicKey)
        return false
      },
      30_000,
    )
  }

  /** Items for anyone, all holders. */
  async function held(): Promise<number> {
    let total = 0
    for (const holder of holders.values()) total += (await holder.counts()).items
    return total
  }

  before(async () => {
    dir = await tempDir()
    testnet = await startTestnet({
      nodes: N,
      dht: FAST,
      attach: onionRelays(onion, silentLogger, {
        mailbox(node) {
          const holder = openMemoryStore().then((store) => {
            stores.push(store)
            const h = new MailboxHolder({ store, config: mailbox, log: silentLogger })
            holders.set(hex(node.nodeKey.publicKey), h)
            return h
          })
          const gone = { status: MailboxStatus.unavailable, sent: 0, more: 0 }
          return {
            deposit: async (d) => (holdersGone ? gone : (await holder).deposit(d)),
            fetch: async (f, b) => (await holder).fetch(f, b),
            ack: async (a, b) => (await holder).ack(a, b),
          } satisfies MailboxHandler
        },
        started: (router, node) => routers.set(hex(node.nodeKey.publicKey), router),
      }),
    })
    await allRelaysListed(testnet)
  })
  after(async () => {
    for (const side of [...running]) await stopSide(side)
    for (const client of clients) client.stop()
    await testnet?.stop()
    for (const store of stores) await store.close()
  })

  it('messages for a contact with no record are deposited; it fetches them once, in order, acks, and the holders and the outbox empty', async () => {
    const alice = await startSide('a1', generateIdentity(), 1)
    const bob = generateIdentity()
    for (let i = 0; i < 5; i++)
      await alice.messenger.send(alice.identity.publicKey, bob.publicKey, bytes(`m${i}`))
    await waitUntil('5 messages deposited', () => alice.port.deposits >= 5)
    await waitUntil('every deposit at its holders', async () => (await held()) >= 5 * mailbox.holders)
    // Sealed without a prekey (prekey id zero, right after the 2-byte header): it opens after any prekey expired.
    const deposited = messagingTables(alice.store).deposits
    // Written once the holders' answers are back, which may be after the holders stored the items.
    await waitUntil('5 deposit records', async () => (await deposited.count()) === 5)

    const side = await startSide('b1', bob, outside(bob))
    const report = await side.messenger.fetchMailbox(bob.publicKey)
    assert.deepEqual(report, { fetched: 5, acked: 5, kept: 0 })
    await waitUntil('bob has all 5', () => side.delivered.length >= 5)
    assert.deepEqual(side.delivered.map(text), ['m0', 'm1', 'm2', 'm3', 'm4'])
    assert.equal(await held(), 0, 'the acks deleted every copy')
    // Bob's end-to-end acks reached Alice directly: her outbox and deposit records are gone.
    await waitUntil('alice’s outbox empty', () => alice.messenger.counts().outbox === 0)
    await waitUntil('deposit records gone', async () => (await deposited.count()) === 0)
    assert.deepEqual(await side.messenger.fetchMailbox(bob.publicKey), { fetched: 0, acked: 0, kept: 0 })
    await stopSide(alice)
    await stopSide(side)
  })

  it('re-deposits when too few holders took a message, and when the deposit is due again; a restart re-mints nothing early', async () => {
    holdersGone = true
    const aliceId = generateIdentity()
    const config = messaging({ redepositIntervalMs: 4000 })
    let alice = await startSide('a2', aliceId, 1, config)
    const bob = generateIdentity()
    await alice.messenger.send(aliceId.publicKey, bob.publicKey, bytes('again'))
    await waitUntil('a first, refused deposit', () => alice.port.deposits >= 1)
    assert.equal(await held(), 0)
    holdersGone = false
    // Refused everywhere → tried again after depositAfterMs (doubling while it keeps failing).
    await waitUntil('a second deposit the holders took', async () => (await held()) === mailbox.holders)
    const record = async () => (await entries(messagingTables(alice.store).deposits))[0]?.[1]
    // Written once the holders answered: the fewest that took any chunk, and no miss since.
    await waitUntil('the record of the good deposit', async () => (await record())?.ok === mailbox.holders)
    assert.equal((await record())?.misses, 0)

    // Alice stops; the holders lose the item (B's key fetches and acks it: as if they all left).
    await stopSide(alice)
    const thief = clientOn(testnet.nodes[outside(bob)]!)
    await thief.ack(
      bob,
      (await thief.fetch(bob)).map((f) => f.id),
    )
    assert.equal(await held(), 0)
    // A restart right away deposits nothing: the record says it is not due yet.
    alice = await startSide('a2', aliceId, 1, config)
    await new Promise((resolve) => setTimeout(resolve, 600))
    assert.equal(alice.port.deposits, 0, 'nothing re-minted at restart')
    await waitUntil('re-deposited after redepositIntervalMs', async () => (await held()) === mailbox.holders)
    assert.equal(alice.port.deposits, 1)

    const side = await startSide('b2', bob, outside(bob))
    assert.equal((await side.messenger.fetchMailbox(bob.publicKey))?.acked, 1)
    await waitUntil('bob has it', () => side.delivered.length === 1)
    assert.equal(text(side.delivered[0]!), 'again')
    await stopSide(alice)
    await stopSide(side)
  })

  it('messages of several chunks, more than the recipient reassembles at once, all arrive from one fetch', async () => {
    const chunk = 64
    const aliceId = generateIdentity()
    const config = messaging({ redepositIntervalMs: 60_000 })
    const bob = generateIdentity()
    // Alice fetches her own mailbox later: from a node that holds none of it, away from Bob's.
    const aliceAt = outside(aliceId, [outside(bob)])
    let alice = await startSide('a5', aliceId, aliceAt, config, DATA_HEADER_BYTES + chunk)
    const text3 = (i: number) => `${i}`.padEnd(3 * chunk - 10, '.')
    for (let i = 0; i < 6; i++)
      await alice.messenger.send(alice.identity.publicKey, bob.publicKey, bytes(text3(i)))
    await waitUntil('18 chunks deposited', async () => (await held()) >= 18 * mailbox.holders)
    await stopSide(alice)
    // Two partial messages at a time: the chunks come in any order, so later passes take the rest.
    const side = await startSide('b5', bob, outside(bob), messaging({ reassemblyPerSender: 2 }))
    assert.deepEqual(await side.messenger.fetchMailbox(bob.publicKey), { fetched: 18, acked: 18, kept: 0 })
    await waitUntil('bob has all 6', () => side.delivered.length >= 6)
    assert.deepEqual(
      side.delivered.map(text),
      Array.from({ length: 6 }, (_, i) => text3(i)),
    )
    await stopSide(side)
    alice = await startSide('a5', aliceId, aliceAt, config, DATA_HEADER_BYTES + chunk)
    await aliceAcked(alice, 6)
  })

  it('acks holders only after durable storage: a recipient restarted between fetch and ack loses nothing and shows nothing twice; the sender, offline too, finds the acknowledgement in its mailbox', async () => {
    const aliceId = generateIdentity()
    const config = messaging({ redepositIntervalMs: 60_000 })
    const bob = generateIdentity()
    const aliceAt = outside(aliceId, [outside(bob)])
    let alice = await startSide('a3', aliceId, aliceAt, config)
    for (let i = 0; i < 4; i++)
      await alice.messenger.send(alice.identity.publicKey, bob.publicKey, bytes(`r${i}`))
    await waitUntil('deposited', async () => (await held()) >= 4 * mailbox.holders)
    await stopSide(alice) // both offline now: Bob's end-to-end acks go nowhere

    let side = await startSide('b3', bob, outside(bob))
    side.port.hangAcks = true
    void side.messenger.fetchMailbox(bob.publicKey)
    await waitUntil('all 4 stored and shown', () => side.delivered.length === 4)
    const shown = side.delivered.map(text)
    assert.equal(side.port.acks, 0)
    assert.equal(await held(), 4 * mailbox.holders, 'the holders still keep every item')
    await stopSide(side) // the "crash": the ack never left

    side = await startSide('b3', bob, outside(bob))
    const report = await side.messenger.fetchMailbox(bob.publicKey)
    assert.deepEqual(report, { fetched: 4, acked: 4, kept: 0 }, 'recognised as duplicates and acked')
    await new Promise((resolve) => setTimeout(resolve, 200))
    assert.deepEqual(side.delivered, [], 'nothing shown twice')
    assert.deepEqual(shown, ['r0', 'r1', 'r2', 'r3'])
    assert.equal(side.messenger.dropped().duplicate, 4)
    await stopSide(side)
    alice = await startSide('a3', aliceId, aliceAt, config)
    await aliceAcked(alice, 4)
  })

  it('hostile items in a mailbox — garbage, an envelope for someone else, a stale ephemeral — are dropped and acked; the recipient stays healthy', async () => {
    const bob = generateIdentity()
    const carol = generateIdentity()
    const mallory = generateIdentity()
    const depositor = clientOn(testnet.nodes[1]!)
    const store = await openMemoryStore()
    stores.push(store)
    const sealer = new EnvelopeSealer({ store, config: messaging() })
    const junk = [
      globalThis.crypto.getRandomValues(new Uint8Array(ENVELOPE_LENGTH)),
      new Uint8Array(ENVELOPE_LENGTH),
      // Authentic, but sealed to Carol: Bob cannot open it.
      await sealer.seal(mallory, carol.publicKey, bytes('not for bob'), { prekey: false }),
      // Authentic and for Bob, but no frame inside.
      await sealer.seal(mallory, bob.publicKey, bytes('not a frame'), { prekey: false }),
    ]
    for (const item of junk) await depositor.deposit(bob.publicKey, item)
    const side = await startSide('b4', bob, outside(bob))
    const report = await side.messenger.fetchMailbox(bob.publicKey)
    assert.deepEqual(report, { fetched: junk.length, acked: junk.length, kept: 0 })
    await holdersEmptied(side) // junk is acked, so it does not come back at every fetch
    const drops = side.messenger.dropped()
    assert.equal(drops.badEnvelope, 3)
    assert.equal(drops.badFrame, 1)

    // Still healthy: a real message from Alice (offline → mailbox) arrives.
    const alice = await startSide('a4', generateIdentity(), 1)
    direct.online.delete(hex(bob.publicKey))
    await alice.messenger.send(alice.identity.publicKey, bob.publicKey, bytes('real'))
    await waitUntil('deposited', async () => (await held()) === mailbox.holders)
    await side.messenger.fetchMailbox(bob.publicKey)
    await waitUntil('bob has it', () => side.delivered.length === 1)
    assert.equal(text(side.delivered[0]!), 'real')
    await stopSide(alice)
    await stopSide(side)
  })
})

import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { type MailboxConfig, mailboxSection } from '../../bridge/config/sections/mailbox.js'
import { blindedSigner, MAILBOX_BLINDING } from '../../bridge/crypto/blind.js'
import { DOMAIN } from '../../bridge/crypto/domains.js'
import { generateIdentity, type Identity } from '../../bridge/crypto/identity.js'
import { signedBytes } from '../../bridge/crypto/sign.js'
import { checkStamp, mintStamp } from '../../bridge/crypto/stamp.js'
import { periodAt } from '../../bridge/dht/period.js'
import { startTestnet, type Testnet, type TestnetNode } from '../../bridge/dht/testnet.js'
import { silentLogger } from '../../bridge/log.js'
import { mailboxAddress, mailboxHolders } from '../../bridge/onion/mailbox-address.js'
import { MailboxClient } from '../../bridge/onion/mailbox-client.js'
import { MailboxHolder } from '../../bridge/onion/mailbox-holder.js'
import type { OnionRouter } from '../../bridge/onion/onion-router.js'
import { targetOf } from '../../bridge/onion/path.js'
import { onionRelays } from '../../bridge/onion/testnet-relays.js'
import { openStore, type Store } from '../../bridge/store/index.js'
import { ENVELOPE_LENGTH } from '../../bridge/wire/envelope.js'
import { MailboxStatus } from '../../bridge/wire/mailbox.js'
import { FAST, waitUntil } from '../dht/helpers.js'
import { testOnionConfig } from './helpers.js'

const N = 10
const HOUR = 3_600_000
const onion = testOnionConfig({ replyTimeoutMs: 2000 })
// A low difficulty keeps 50 stamps quick; bench/suites/mailbox.ts measures the default.
const mailbox: MailboxConfig = { ...mailboxSection.parse({}), stampDifficulty: 4, itemsPerMailbox: 60 }

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')

describe(`mailboxes on a ${N}-node testnet, every relay a holder`, () => {
  let dir: string
  let testnet: Testnet
  /** The holders' clock runs `skew` ms ahead of the system clock (expiry tests move it). */
  let skew = 0
  const stores: Store[] = []
  const holders = new Map<string, MailboxHolder>()
  const routers = new Map<string, OnionRouter>()
  let sender: MailboxClient
  let recipient: MailboxClient
  let bob: Identity

  const holderOf = (id: string) => holders.get(id)!
  const routerOf = (node: TestnetNode) => routers.get(hex(node.nodeKey.publicKey))!
  const clientOn = (node: TestnetNode, config: MailboxConfig = mailbox) =>
    new MailboxClient({
      router: routerOf(node),
      directory: node.service.directory,
      onion,
      config,
      log: silentLogger,
    })
  const envelope = () => globalThis.crypto.getRandomValues(new Uint8Array(ENVELOPE_LENGTH))

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'paranoim-mailbox-'))
    for (let i = 0; i < N + 2; i++) stores.push(await openStore({ dataDir: join(dir, String(i)) }))
    testnet = await startTestnet({
      nodes: N,
      dht: FAST,
      attach: onionRelays(onion, silentLogger, {
        mailbox(node) {
          const holder = new MailboxHolder({
            store: stores[holders.size]!,
            config: mailbox,
            log: silentLogger,
            now: () => Date.now() + skew,
          })
          holders.set(hex(node.nodeKey.publicKey), holder)
          return holder
        },
        started: (router, node) => routers.set(hex(node.nodeKey.publicKey), router),
      }),
    })
    await waitUntil(
      'every directory lists the other relays',
      async () => {
        await testnet.discoverRelays()
        return testnet.nodes.every((n) => n.service.directory.size === N - 1)
      },
      30_000,
    )
    sender = clientOn(testnet.nodes[1]!)
    bob = generateIdentity()
    // B fetches from a node that is not one of its own holders: a directory never lists its own
    // node, so a node cannot yet reach the items it holds itself (see the report: next session).
    const held = new Set(bobHolders().map((h) => h.id))
    const fetcher = testnet.nodes.find((n, i) => i > 1 && !held.has(hex(n.nodeKey.publicKey)))!
    recipient = clientOn(fetcher)
  })
  after(async () => {
    sender?.stop()
    recipient?.stop()
    await testnet?.stop()
    for (const store of stores) await store.close()
    await rm(dir, { recursive: true, force: true })
  })

  /** The holders of B's mailbox this period in node 1's view. */
  function bobHolders() {
    const { id } = mailboxAddress(bob.publicKey, periodAt(Date.now(), mailbox.periodMs))
    return mailboxHolders(testnet.nodes[1]!.service.directory, id, mailbox.holders, Date.now())
  }
  it('50 envelopes for an offline address reach its 5 holders, come back once each, and acks delete them everywhere', async () => {
    const sent = Array.from({ length: 50 }, envelope)
    for (const item of sent) {
      const outcomes = await sender.deposit(bob.publicKey, item)
      assert.deepEqual(
        outcomes.map((o) => o.status),
        ['ok', 'ok', 'ok', 'ok', 'ok'],
      )
    }
    const chosen = new Set(bobHolders().map((h) => h.id))
    assert.equal(chosen.size, 5)
    for (const [id, holder] of holders)
      assert.equal((await holder.counts()).items, chosen.has(id) ? 50 : 0, `holder ${id.slice(0, 8)}`)

    const fetched = await recipient.fetch(bob)
    assert.equal(fetched.length, 50, 'each item once, though five holders keep it')
    assert.deepEqual(new Set(fetched.map((f) => hex(f.item))), new Set(sent.map(hex)))

    const outcomes = await recipient.ack(
      bob,
      fetched.map((f) => f.id),
    )
    assert.ok(outcomes.length > 0 && outcomes.every((o) => o.status === 'ok'))
    for (const holder of holders.values()) assert.equal((await holder.counts()).items, 0)
    assert.deepEqual(await recipient.fetch(bob), [])
  })

  it('refuses a deposit without a valid stamp, past its expiry or over quota, and a fetch or ack with a wrong authorization; the holder stays healthy', async () => {
    const holder = bobHolders()[0]!
    // Node 1 is never a holder in its own view (a directory does not list its own node).
    const client = testnet.nodes[1]!
    const hops = testnet.nodes
      .slice(2)
      .filter((n) => hex(n.nodeKey.publicKey) !== holder.id)
      .slice(0, 2)
    const circuit = await routerOf(client).buildCircuit([
      ...hops.map((n) => ({ nodeKey: n.nodeKey.publicKey, endpoint: n.endpoint })),
      targetOf(holder),
    ])
    const period = periodAt(Date.now(), mailbox.periodMs)
    const { id: mailboxId } = mailboxAddress(bob.publicKey, period)
    const deposit = async (item: Uint8Array, expiry: number, stamp?: Uint8Array) =>
      (
        await circuit.mailbox({
          command: 'mailboxDeposit',
          deposit: {
            mailboxId,
            expiry,
            item,
            stamp: stamp ?? mintStamp({ mailboxId, item, expiry }, mailbox.stampDifficulty),
          },
        })
      ).result.status
    const expiry = Math.floor(Date.now() / 1000) + 3600

    const item = envelope()
    let bad = new Uint8Array(8)
    for (let n = 0; checkStamp({ mailboxId, item, expiry }, bad, mailbox.stampDifficulty); n++)
      bad = Uint8Array.of(0, 0, 0, 0, 0, 0, n >> 8, n & 255)
    assert.equal(await deposit(item, expiry, bad), MailboxStatus.badStamp)
    // A stamp for another expiry does not carry over.
    const other = mintStamp({ mailboxId, item, expiry: expiry + 1 }, mailbox.stampDifficulty)
    if (!checkStamp({ mailboxId, item, expiry }, other, mailbox.stampDifficulty))
      assert.equal(await deposit(item, expiry, other), MailboxStatus.badStamp)
    assert.equal(await deposit(item, Math.floor(Date.now() / 1000) - 1), MailboxStatus.expired)
    assert.equal(await deposit(item, Math.floor(Date.now() / 1000) + 40 * 24 * 3600), MailboxStatus.expired)

    for (let i = 0; i < mailbox.itemsPerMailbox; i++)
      assert.equal(await deposit(envelope(), expiry), MailboxStatus.ok)
    assert.equal(await deposit(envelope(), expiry), MailboxStatus.overQuota)
    assert.equal((await holderOf(holder.id).counts()).items, mailbox.itemsPerMailbox)

    const binding = circuit.hops.at(-1)!.keys.binding
    const bobKey = blindedSigner(bob, period, undefined, MAILBOX_BLINDING)
    const mallory = blindedSigner(generateIdentity(), period, undefined, MAILBOX_BLINDING)
    const fetchWith = async (signature: Uint8Array) =>
      circuit.mailbox({
        command: 'mailboxFetch',
        fetch: { mailboxKey: bobKey.publicKey, signature, skip: 0 },
      })
    // Another key's signature, and B's own signature over another circuit's binding.
    for (const signature of [
      mallory.sign(signedBytes(DOMAIN.mailboxFetch, binding)),
      bobKey.sign(signedBytes(DOMAIN.mailboxFetch, new Uint8Array(32))),
    ]) {
      const answer = await fetchWith(signature)
      assert.equal(answer.result.status, MailboxStatus.badAuth)
      assert.equal(answer.items.length, 0)
    }
    const ack = await circuit.mailbox({
      command: 'mailboxAck',
      ack: {
        mailboxKey: bobKey.publicKey,
        signature: mallory.sign(signedBytes(DOMAIN.mailboxAck, binding)),
        ids: [new Uint8Array(16)],
      },
    })
    assert.equal(ack.result.status, MailboxStatus.badAuth)

    // Still healthy: the circuit answers, B's own fetch pages through everything, B's ack empties it.
    await circuit.test()
    const own = await recipient.fetch(bob, [period])
    assert.equal(own.length, mailbox.itemsPerMailbox)
    await recipient.ack(
      bob,
      own.map((f) => f.id),
    )
    assert.equal((await holderOf(holder.id).counts()).items, 0)
    circuit.destroy()
  })

  it('expiry under a fake clock: items past their retention are gone from every holder', async () => {
    const shortLived = clientOn(testnet.nodes[1]!, { ...mailbox, retentionMs: HOUR })
    for (let i = 0; i < 3; i++)
      assert.ok((await shortLived.deposit(bob.publicKey, envelope())).every((o) => o.status === 'ok'))
    const chosen = bobHolders().map((h) => holderOf(h.id))
    for (const holder of chosen) assert.equal((await holder.counts()).items, 3)
    assert.equal((await recipient.fetch(bob)).length, 3)
    for (const holder of chosen) assert.equal(await holder.sweep(), 0, 'nothing expired yet')
    skew = 2 * HOUR
    // Expired items are no longer handed out, even before the sweep.
    assert.deepEqual(await recipient.fetch(bob), [])
    for (const holder of chosen) {
      assert.equal(await holder.sweep(), 3)
      assert.equal((await holder.counts()).items, 0)
    }
    shortLived.stop()
    skew = 0
  })
})

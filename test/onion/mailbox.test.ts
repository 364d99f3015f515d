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
import type { RelayEntry } from '../../bridge/dht/relay-directory.js'
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
import { ackSignedBytes, MailboxStatus } from '../../bridge/wire/mailbox.js'
import { allRelaysListed, FAST } from '../dht/helpers.js'
import { testOnionConfig } from './helpers.js'

const N = 10
const HOUR = 3_600_000
const onion = testOnionConfig({ replyTimeoutMs: 2000 })
// A low difficulty keeps 50 stamps quick; bench/suites/mailbox.ts measures the default.
// 1 MiB of disk: a total quota of 512 items, so the abuse test can reach it.
const mailbox: MailboxConfig = {
  ...mailboxSection.parse({}),
  stampDifficulty: 4,
  itemsPerMailbox: 60,
  diskBudgetBytes: 1024 * 1024,
}

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
  /** A circuit from node 1 through two other nodes to `holder` (node 1 is never a holder in its own view: a directory does not list its own node). */
  const circuitTo = (holder: RelayEntry) => {
    const hops = testnet.nodes
      .slice(2)
      .filter((n) => hex(n.nodeKey.publicKey) !== holder.id)
      .slice(0, 2)
    return routerOf(testnet.nodes[1]!).buildCircuit([
      ...hops.map((n) => ({ nodeKey: n.nodeKey.publicKey, endpoint: n.endpoint })),
      targetOf(holder),
    ])
  }
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
    await allRelaysListed(testnet)
    sender = clientOn(testnet.nodes[1]!)
    bob = generateIdentity()
    // B fetches from a node that is not one of its own holders (the next test covers one that is).
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

  it('a recipient whose own node is one of its holders fetches and acks those copies there too (its directory never lists itself)', async () => {
    const carol = generateIdentity()
    const { id } = mailboxAddress(carol.publicKey, periodAt(Date.now(), mailbox.periodMs))
    const own = mailboxHolders(testnet.nodes[1]!.service.directory, id, mailbox.holders, Date.now())[0]!
    const node = testnet.nodes.find((n) => hex(n.nodeKey.publicKey) === own.id)!
    const sent = [envelope(), envelope()]
    for (const item of sent)
      assert.ok((await sender.deposit(carol.publicKey, item)).every((o) => o.status === 'ok'))
    const mine = holderOf(own.id)
    assert.equal((await mine.counts()).items, 2)

    const client = new MailboxClient({
      router: routerOf(node),
      directory: node.service.directory,
      onion,
      config: mailbox,
      log: silentLogger,
      local: mine,
    })
    const fetched = await client.fetch(carol)
    assert.deepEqual(new Set(fetched.map((f) => hex(f.item))), new Set(sent.map(hex)))
    const outcomes = await client.ack(
      carol,
      fetched.map((f) => f.id),
    )
    assert.ok(outcomes.some((o) => o.holder === 'self' && o.status === 'ok'))
    assert.equal((await mine.counts()).items, 0, 'its own copies are deleted too')
    for (const holder of holders.values()) assert.equal((await holder.counts()).items, 0)
    client.stop()
  })

  it('refuses a deposit without a valid stamp, past its expiry or over quota, and a fetch or ack with a wrong authorization; the holder stays healthy', async () => {
    const holder = bobHolders()[0]!
    const circuit = await circuitTo(holder)
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
    const own = await recipient.fetch(bob, { periods: [period] })
    assert.equal(own.length, mailbox.itemsPerMailbox)
    await recipient.ack(
      bob,
      own.map((f) => f.id),
    )
    assert.equal((await holderOf(holder.id).counts()).items, 0)
    circuit.destroy()
  })

  it('refuses stamps for another item or mailbox, deposits over the total quota, and an ack replayed from another circuit; honest requests still succeed', async () => {
    const holder = bobHolders()[0]!
    const circuit = await circuitTo(holder)
    const period = periodAt(Date.now(), mailbox.periodMs)
    const { id: mailboxId } = mailboxAddress(bob.publicKey, period)
    const expiry = Math.floor(Date.now() / 1000) + 3600
    const deposit = async (d: {
      mailboxId: Uint8Array
      item: Uint8Array
      expiry: number
      stamp?: Uint8Array
    }) =>
      (
        await circuit.mailbox({
          command: 'mailboxDeposit',
          deposit: { ...d, stamp: d.stamp ?? mintStamp(d, mailbox.stampDifficulty) },
        })
      ).result.status
    /** A stamp minted for `other` that happens not to be valid for `subject` (a low difficulty lets some through). */
    const foreignStamp = (
      subject: Parameters<typeof checkStamp>[0],
      other: (n: number) => typeof subject,
    ) => {
      for (let n = 0; ; n++) {
        const stamp = mintStamp(other(n), mailbox.stampDifficulty)
        if (!checkStamp(subject, stamp, mailbox.stampDifficulty)) return stamp
      }
    }
    const item = envelope()
    const subject = { mailboxId, item, expiry }
    const stamps = {
      'another item': foreignStamp(subject, () => ({ ...subject, item: envelope() })),
      'another mailbox': foreignStamp(subject, () => ({
        ...subject,
        mailboxId: globalThis.crypto.getRandomValues(new Uint8Array(20)),
      })),
      'another expiry': foreignStamp(subject, (n) => ({ ...subject, expiry: expiry + 1 + n })),
    }
    for (const [what, stamp] of Object.entries(stamps))
      assert.equal(await deposit({ ...subject, stamp }), MailboxStatus.badStamp, `a stamp for ${what}`)

    // The total quota: fill the holder across mailboxes (each under its own quota), then one more.
    const quota = holderOf(holder.id).totalQuota
    assert.equal(quota, 512)
    for (let i = 0; i < quota; i++) {
      const filler = {
        mailboxId: Uint8Array.of(...new Uint8Array(19), Math.floor(i / 50)),
        item: envelope(),
        expiry,
      }
      assert.equal(await deposit(filler), MailboxStatus.ok)
    }
    assert.equal(await deposit(subject), MailboxStatus.overQuota, 'over the total quota')
    assert.equal((await holderOf(holder.id).counts()).items, quota)

    // B's own ack signature, but over another circuit's binding: a replay.
    const bobKey = blindedSigner(bob, period, undefined, MAILBOX_BLINDING)
    const ids = [new Uint8Array(16)]
    const replayed = await circuit.mailbox({
      command: 'mailboxAck',
      ack: {
        mailboxKey: bobKey.publicKey,
        signature: bobKey.sign(signedBytes(DOMAIN.mailboxAck, ackSignedBytes(new Uint8Array(32), ids))),
        ids,
      },
    })
    assert.equal(replayed.result.status, MailboxStatus.badAuth)

    // Still healthy: the fillers expire and go, then B's honest deposit, fetch and ack work.
    skew = 2 * HOUR
    assert.equal(await holderOf(holder.id).sweep(), quota)
    skew = 0
    assert.equal(await deposit(subject), MailboxStatus.ok)
    const own = await recipient.fetch(bob, { periods: [period] })
    assert.deepEqual(
      own.map((f) => hex(f.item)),
      [hex(item)],
    )
    assert.ok((await recipient.ack(bob, [own[0]!.id])).every((o) => o.status === 'ok'))
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

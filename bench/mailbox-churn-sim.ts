import { type MailboxConfig, mailboxSection } from '../bridge/config/sections/mailbox.js'
import { blindedSigner, MAILBOX_BLINDING } from '../bridge/crypto/blind.js'
import { DOMAIN } from '../bridge/crypto/domains.js'
import { type Identity, identityFromSeed } from '../bridge/crypto/identity.js'
import { signedBytes } from '../bridge/crypto/sign.js'
import { mintStamp } from '../bridge/crypto/stamp.js'
import { periodAt } from '../bridge/dht/period.js'
import { silentLogger } from '../bridge/log.js'
import { closestTo, mailboxAddress, type PlacedNode } from '../bridge/onion/mailbox-address.js'
import { MailboxHandoff } from '../bridge/onion/mailbox-handoff.js'
import { MailboxHolder } from '../bridge/onion/mailbox-holder.js'
import { openMemoryStore, type Store } from '../bridge/store/index.js'
import { MAILBOX_STATUS_NAMES } from '../bridge/wire/mailbox.js'

/**
 * Mailbox availability under churn, simulated: the real holder selection
 * (closestTo), the real handoff rounds (MailboxHandoff, so planHandoff) and
 * real MailboxHolder instances on memory stores, under one fake clock, with a
 * transport that hands a deposit straight to the target's holder when the
 * target is up. The model:
 *
 * - `nodes` relays, every one a holder; each hour a share `churnPerHour` of
 *   them leaves for good (so lifetimes are exponential, mean 1 / churn) and as
 *   many new ones join with fresh random ids, keeping the size constant;
 * - time moves in steps of one hour; at each step every node's directory is
 *   refreshed: it lists every node up now and those that left during this
 *   step (a departed relay stays listed until relayStaleMs, 1 h, has passed
 *   since it was last seen); a node that joined shows up at the next step;
 * - k = mailbox.holders (5); at t = 0 a sender with a full directory deposits
 *   `itemsPerMailbox` items for each of `mailboxes` recipients with their k
 *   closest relays, and goes offline;
 * - with handoff, every holder runs one round after each refresh; without it,
 *   items stay where they were deposited;
 * - an item counts as available at a checkpoint when its recipient, asking
 *   the k + 2 closest relays of the directory at that time (what
 *   MailboxClient does), gets it from at least one of them through a real,
 *   signed FETCH.
 *
 * Items are deposited with the longest retention (30 days), so expiry does
 * not count at the day-14 checkpoint. Deterministic: a seeded PRNG draws the
 * churn, the node ids, the recipients and the items, so with and without
 * handoff see the same network.
 */
export interface ChurnModel {
  nodes: number
  churnPerHour: number
  mailboxes: number
  itemsPerMailbox: number
  days: number
  /** Checkpoints, in days. */
  checkpoints: number[]
  seed: number
}

interface SimNode extends PlacedNode {
  holder: MailboxHolder
  handoff: MailboxHandoff
  store: Store
  up: boolean
  /** Step at which it left (listed at that step's refresh still, gone at the next). */
  leftAt: number
}

const HOUR = 3_600_000
const DAY = 24 * HOUR
const SPARE_HOLDERS = 2
const T0 = Date.UTC(2026, 0, 1)

/** mulberry32: a small seeded PRNG (the simulation must be reproducible). */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32
  }
}

/** The share of items available at each checkpoint (same order as model.checkpoints). */
export async function simulateChurn(model: ChurnModel, handoff: boolean): Promise<number[]> {
  const random = prng(model.seed)
  const config: MailboxConfig = { ...mailboxSection.parse({}), stampDifficulty: 0 }
  let now = T0
  let serial = 0
  const all = new Map<string, SimNode>()
  const ever = new Set<SimNode>()

  const listed = (step: number) => [...all.values()].filter((n) => n.up || n.leftAt === step)
  let directory: SimNode[] = []

  async function join(): Promise<SimNode> {
    const dhtId = new Uint8Array(20).map(() => Math.floor(random() * 256))
    const id = `n${serial++}`
    const store = await openMemoryStore()
    const holder = new MailboxHolder({ store, config, log: silentLogger, now: () => now })
    const node: SimNode = {
      id,
      dhtId,
      // Directories list it from the next refresh (at t = 0: before the deposits).
      since: now === T0 ? T0 : now + HOUR,
      store,
      holder,
      up: true,
      leftAt: -1,
      handoff: new MailboxHandoff({
        holder,
        self: { id, dhtId },
        relays: () => directory,
        transport: {
          async push(target, deposit) {
            const to = all.get(target)
            if (!to?.up) return 'failed'
            const status = MAILBOX_STATUS_NAMES.get((await to.holder.deposit(deposit)).status)!
            if (status === 'ok') ever.add(to)
            return status
          },
        },
        config,
        log: silentLogger,
      }),
    }
    all.set(id, node)
    return node
  }

  for (let i = 0; i < model.nodes; i++) await join()
  directory = listed(0)

  const period = periodAt(now, config.periodMs)
  const recipients: { identity: Identity; mailboxId: Uint8Array }[] = []
  const expiry = Math.floor((now + config.maxRetentionMs) / 1000)
  for (let m = 0; m < model.mailboxes; m++) {
    const identity = identityFromSeed(new Uint8Array(32).map(() => Math.floor(random() * 256)))
    const { id: mailboxId } = mailboxAddress(identity.publicKey, period)
    recipients.push({ identity, mailboxId })
    for (let i = 0; i < model.itemsPerMailbox; i++) {
      const item = new Uint8Array(959).map(() => Math.floor(random() * 256))
      const stamp = mintStamp({ mailboxId, item, expiry }, config.stampDifficulty)
      for (const holder of closestTo(mailboxId, directory, config.holders)) {
        await holder.holder.deposit({ mailboxId, item, expiry, stamp })
        ever.add(holder)
      }
    }
  }

  async function available(): Promise<number> {
    let found = 0
    for (const { identity, mailboxId } of recipients) {
      const signer = blindedSigner(identity, period, undefined, MAILBOX_BLINDING)
      const items = new Set<string>()
      for (const node of closestTo(mailboxId, directory, config.holders + SPARE_HOLDERS)) {
        if (!node.up) continue
        for (let skip = 0; ; ) {
          const binding = globalThis.crypto.getRandomValues(new Uint8Array(32))
          const signature = signer.sign(signedBytes(DOMAIN.mailboxFetch, binding))
          const answer = await node.holder.fetch({ mailboxKey: signer.publicKey, signature, skip }, binding)
          for (const { item } of answer.items) items.add(Buffer.from(item).toString('hex'))
          skip += answer.items.length
          if (answer.result.more === 0 || answer.items.length === 0) break
        }
      }
      found += items.size
    }
    return found / (model.mailboxes * model.itemsPerMailbox)
  }

  const results: number[] = []
  const steps = model.days * 24
  const leavePerStep = model.churnPerHour
  for (let step = 1; step <= steps; step++) {
    now = T0 + step * HOUR
    for (const node of all.values()) {
      if (!node.up) continue
      if (random() < leavePerStep) {
        node.up = false
        node.leftAt = step
      }
    }
    for (const [id, node] of all) {
      if (!node.up && node.leftAt < step) {
        all.delete(id)
        ever.delete(node)
        await node.store.close()
      }
    }
    directory = listed(step)
    // Newcomers show up in directories at the next refresh.
    const left = [...all.values()].filter((n) => n.leftAt === step).length
    for (let i = 0; i < left; i++) await join()
    if (handoff)
      for (const node of [...ever]) {
        if (!node.up) continue
        if ((await node.holder.counts()).items > 0) await node.handoff.round()
        else ever.delete(node)
      }
    if (model.checkpoints.includes((now - T0) / DAY)) results.push(await available())
  }
  for (const node of all.values()) await node.store.close()
  return results
}

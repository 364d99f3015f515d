import { z } from 'zod'
import type { MailboxConfig } from '../config/sections/mailbox.js'
import type { CryptoBackend } from '../crypto/backend.js'
import { defaultBackend } from '../crypto/default-backend.js'
import { DOMAIN } from '../crypto/domains.js'
import { verifyWithDomain } from '../crypto/sign.js'
import { checkStamp } from '../crypto/stamp.js'
import type { Logger } from '../log.js'
import { bytesSchema, jsonCodec, type Store, sortableNumber, type Table } from '../store/index.js'
import {
  ackSignedBytes,
  type MailboxAck,
  type MailboxDeposit,
  type MailboxFetch,
  type MailboxItem,
  type MailboxResult,
  MailboxStatus,
  mailboxItemId,
} from '../wire/mailbox.js'
import { mailboxIdOf } from './mailbox-address.js'

/**
 * Disk one stored item takes, for sizing the total quota from the budget: the
 * 959-byte envelope and its stamp as base64 JSON, its keys in three tables,
 * the relays it was handed to (a few 64-character ids), LevelDB overhead.
 */
export const STORED_ITEM_BYTES = 2048
/** Expiries may lie this far past maxRetentionMs: the sender's clock may run ahead of ours. */
const CLOCK_SLACK_MS = 10 * 60_000

/**
 * One kept item. `stamp` is the depositor's, kept so the item can be handed
 * on (mailbox-handoff.ts); items stored before holders kept stamps have none
 * and stay where they are until acked or expired. `seq` is this holder's
 * store sequence (the FETCH cursor); items stored before cursors count as 0.
 */
const itemSchema = z.object({
  expiry: z.number().int(),
  storedAt: z.number(),
  seq: z.number().int().nonnegative().optional(),
  item: bytesSchema,
  stamp: bytesSchema.optional(),
})
type StoredItem = z.infer<typeof itemSchema>
/** Relays known to keep an item too: confirmed by a handoff push, or assumed at first sight. */
const handoffSchema = z.object({ to: z.array(z.string()) })

/** A held item as the handoff sees it (mailbox-handoff.ts). */
export interface HeldItem {
  /** `mailbox id.item id`, hex: the holder's key for it. */
  key: string
  mailboxId: Uint8Array
  expiry: number
  /** When this holder stored it (ms). */
  storedAt: number
  item: Uint8Array
  stamp: Uint8Array | undefined
  /** Relays known to keep it too; undefined until the handoff first saw it. */
  to: string[] | undefined
}

/** What the relay asks of a mailbox holder (the relay answers `unknown` when it has none). */
export interface MailboxHandler {
  deposit(deposit: MailboxDeposit): Promise<MailboxResult>
  /** `binding` names the circuit the FETCH came on: the signature must be over it. */
  fetch(fetch: MailboxFetch, binding: Uint8Array): Promise<{ items: MailboxItem[]; result: MailboxResult }>
  ack(ack: MailboxAck, binding: Uint8Array): Promise<MailboxResult>
}

export interface MailboxHolderOptions {
  store: Store
  config: MailboxConfig
  log: Logger
  now?: () => number
  backend?: CryptoBackend
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')
const result = (status: number, sent = 0, more = 0): MailboxResult => ({ status, sent, more })
/** Expiry index keys sort by time: fixed-width seconds. */
const expiryKey = (expiry: number, key: string): string => `${sortableNumber(expiry, 10)}/${key}`

/**
 * The holder role (docs/protocol.md "Mailboxes" → "Holders"): keeps opaque
 * items for mailbox ids it cannot link to anyone, each with an expiry, within
 * a per-mailbox and a total quota; hands them out and deletes them only for
 * the holder of the mailbox key. Requests run one at a time, so the quota
 * counts never race.
 */
export class MailboxHolder implements MailboxHandler {
  readonly #items: Table<StoredItem>
  /** `expiry/mailbox.item` → nothing: the sweep reads only what has expired. */
  readonly #expiries: Table<true>
  readonly #handoffs: Table<z.infer<typeof handoffSchema>>
  /** `next` → the sequence the next stored item gets. */
  readonly #sequence: Table<number>
  readonly #store: Store
  readonly #config: MailboxConfig
  readonly #log: Logger
  readonly #now: () => number
  readonly #backend: CryptoBackend
  readonly #perMailbox = new Map<string, number>()
  #total = 0
  #next = 0
  #queue: Promise<unknown>
  #timer: NodeJS.Timeout | undefined

  constructor(options: MailboxHolderOptions) {
    this.#store = options.store
    this.#items = options.store.table('mailbox-items', jsonCodec(itemSchema))
    this.#expiries = options.store.table('mailbox-expiries', jsonCodec(z.literal(true)))
    this.#handoffs = options.store.table('mailbox-handoffs', jsonCodec(handoffSchema))
    this.#sequence = options.store.table('mailbox-sequence', jsonCodec(z.number().int().nonnegative()))
    this.#config = options.config
    this.#log = options.log.child({ c: 'mailbox' })
    this.#now = options.now ?? Date.now
    this.#backend = options.backend ?? defaultBackend
    this.#queue = this.#countStored()
  }

  /** Items any one node may leave with us, at most: the disk budget over an item's size. */
  get totalQuota(): number {
    return Math.floor(this.#config.diskBudgetBytes / STORED_ITEM_BYTES)
  }

  /** Items held now, as far as the requests handled so far tell (for status pages). */
  get held(): number {
    return this.#total
  }

  /** Items and mailboxes held now (after pending requests). */
  counts(): Promise<{ items: number; mailboxes: number }> {
    return this.#serial(async () => ({ items: this.#total, mailboxes: this.#perMailbox.size }))
  }

  /** Sweeps expired items every `sweepIntervalMs`. */
  start(): void {
    this.#timer ??= setInterval(() => {
      this.sweep().catch((error: unknown) => this.#log.warn({ err: error }, 'mailbox sweep failed'))
    }, this.#config.sweepIntervalMs)
    this.#timer.unref()
  }

  stop(): void {
    clearInterval(this.#timer)
    this.#timer = undefined
  }

  deposit(d: MailboxDeposit): Promise<MailboxResult> {
    return this.#serial(async () => {
      const now = this.#now()
      if (d.expiry * 1000 <= now || d.expiry * 1000 > now + this.#config.maxRetentionMs + CLOCK_SLACK_MS)
        return result(MailboxStatus.expired)
      const subject = { mailboxId: d.mailboxId, item: d.item, expiry: d.expiry }
      if (!checkStamp(subject, d.stamp, this.#config.stampDifficulty, this.#backend))
        return result(MailboxStatus.badStamp)
      const mailbox = hex(d.mailboxId)
      const key = `${mailbox}.${hex(mailboxItemId(d.item, this.#backend))}`
      // A sender depositing again (it saw no ack): keep the first copy, it is the same item.
      if (await this.#items.has(key)) return result(MailboxStatus.ok)
      const inMailbox = this.#perMailbox.get(mailbox) ?? 0
      if (inMailbox >= this.#config.itemsPerMailbox || this.#total >= this.totalQuota)
        return result(MailboxStatus.overQuota)
      const seq = this.#next
      await this.#store.batch([
        this.#items.putOp(key, { expiry: d.expiry, storedAt: now, seq, item: d.item, stamp: d.stamp }),
        this.#expiries.putOp(expiryKey(d.expiry, key), true),
        this.#sequence.putOp('next', seq + 1),
      ])
      this.#next = seq + 1
      this.#perMailbox.set(mailbox, inMailbox + 1)
      this.#total++
      return result(MailboxStatus.ok)
    })
  }

  fetch(f: MailboxFetch, binding: Uint8Array): Promise<{ items: MailboxItem[]; result: MailboxResult }> {
    return this.#serial(async () => {
      if (!verifyWithDomain(f.mailboxKey, DOMAIN.mailboxFetch, binding, f.signature, this.#backend))
        return { items: [], result: result(MailboxStatus.badAuth) }
      const nowSeconds = this.#now() / 1000
      const from = f.from ?? 0
      const held: StoredItem[] = []
      for await (const [, value] of this.#items.entries({ prefix: `${this.#mailboxOf(f.mailboxKey)}.` }))
        if (value.expiry > nowSeconds && (value.seq ?? 0) >= from) held.push(value)
      held.sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0) || a.storedAt - b.storedAt)
      const batch = held.slice(f.skip, f.skip + this.#config.fetchBatch)
      const more = Math.max(0, held.length - f.skip - batch.length)
      const answer = result(MailboxStatus.ok, batch.length, more)
      return {
        items: batch.map(({ expiry, item }) => ({ expiry, item })),
        // Requests run one at a time: every item stored after this answer gets a sequence ≥ next.
        result: f.from === undefined ? answer : { ...answer, next: this.#next },
      }
    })
  }

  ack(a: MailboxAck, binding: Uint8Array): Promise<MailboxResult> {
    return this.#serial(async () => {
      const signed = ackSignedBytes(binding, a.ids)
      if (!verifyWithDomain(a.mailboxKey, DOMAIN.mailboxAck, signed, a.signature, this.#backend))
        return result(MailboxStatus.badAuth)
      const mailbox = this.#mailboxOf(a.mailboxKey)
      let deleted = 0
      for (const id of a.ids) if (await this.#delete(`${mailbox}.${hex(id)}`)) deleted++
      return result(MailboxStatus.ok, deleted)
    })
  }

  /** Deletes every item whose expiry has passed; returns how many went. */
  sweep(): Promise<number> {
    return this.#serial(async () => {
      const bound = expiryKey(Math.floor(this.#now() / 1000) + 1, '')
      const expired: string[] = []
      for await (const key of this.#expiries.keys({ lt: bound }))
        expired.push(key.slice(key.indexOf('/') + 1))
      let deleted = 0
      for (const key of expired) if (await this.#delete(key)) deleted++
      if (deleted > 0) this.#log.debug({ deleted }, 'expired mailbox items deleted')
      return deleted
    })
  }

  /** Up to `limit` unexpired items with keys after `after` (all, from the first, without it), in key order. */
  heldItems(after: string | undefined, limit: number): Promise<HeldItem[]> {
    return this.#serial(async () => {
      const nowSeconds = this.#now() / 1000
      const held: HeldItem[] = []
      // Expired items (awaiting the sweep) are passed over, not counted against the limit.
      for await (const [key, value] of this.#items.entries(after === undefined ? {} : { gt: after })) {
        if (held.length === limit) break
        if (value.expiry <= nowSeconds) continue
        held.push({
          key,
          mailboxId: Buffer.from(key.slice(0, key.indexOf('.')), 'hex'),
          expiry: value.expiry,
          storedAt: value.storedAt,
          item: value.item,
          stamp: value.stamp,
          to: (await this.#handoffs.get(key))?.to,
        })
      }
      return held
    })
  }

  /** Records the relays known to keep the item `key` too (nothing if it went meanwhile). */
  recordHandoff(key: string, to: string[]): Promise<void> {
    return this.#serial(async () => {
      if (await this.#items.has(key)) await this.#handoffs.put(key, { to })
    })
  }

  /** Drops an item this holder no longer keeps for anyone (handed to every relay now responsible). */
  release(key: string): Promise<boolean> {
    return this.#serial(() => this.#delete(key))
  }

  #mailboxOf(mailboxKey: Uint8Array): string {
    return hex(mailboxIdOf(mailboxKey, this.#backend))
  }

  async #delete(key: string): Promise<boolean> {
    const stored = await this.#items.get(key)
    if (!stored) return false
    await this.#store.batch([
      this.#items.delOp(key),
      this.#expiries.delOp(expiryKey(stored.expiry, key)),
      this.#handoffs.delOp(key),
    ])
    const mailbox = key.slice(0, key.indexOf('.'))
    const left = (this.#perMailbox.get(mailbox) ?? 1) - 1
    if (left > 0) this.#perMailbox.set(mailbox, left)
    else this.#perMailbox.delete(mailbox)
    this.#total--
    return true
  }

  /**
   * A new store starts its sequence at the clock in ms, not 0: a holder whose
   * store was wiped then hands out no sequence that an old cursor passes over.
   */
  async #countStored(): Promise<void> {
    this.#next = (await this.#sequence.get('next')) ?? Math.floor(this.#now())
    for await (const key of this.#items.keys()) {
      const mailbox = key.slice(0, key.indexOf('.'))
      this.#perMailbox.set(mailbox, (this.#perMailbox.get(mailbox) ?? 0) + 1)
      this.#total++
    }
  }

  /** Runs `task` after every earlier request (and the initial count) settled. */
  #serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task, task)
    this.#queue = run.catch(() => undefined)
    return run
  }
}

import type { MessagingConfig } from '../config/sections/messaging.js'
import type { Identity } from '../crypto/identity.js'
import type { Logger } from '../log.js'
import type { BatchOp, Store } from '../store/index.js'
import { HOLDER_OK, type MailboxPort } from './mailbox-port.js'
import { Limit } from './serial.js'
import { type DepositRecord, joinKey, type MessagingTables, seqKey } from './tables.js'

export interface DepositsDeps {
  store: Store
  tables: MessagingTables
  port: MailboxPort
  /** Seals a frame without a prekey: mailbox items outlive every prekey. */
  seal(from: Identity, to: Uint8Array, frame: Uint8Array): Promise<Uint8Array>
  config: MessagingConfig
  /** A deposit that fewer holders took is tried again sooner (at most mailbox.holders). */
  minHolders: number
  /** Messages deposited side by side, at most: one per stamp worker keeps them all busy. */
  concurrency: number
  log: Logger
  now: () => number
}

/** One outbox entry as the depositor sees it. */
export interface DepositCandidate {
  seq: number
  /** Its DATA chunks (one stamp each). */
  chunks: number
  /** Its DATA frames; undefined when it has left the outbox meanwhile. */
  frames(): Promise<Uint8Array[] | undefined>
}

/** The messages of one (local sender, contact) pair waiting for the contact's acknowledgement. */
export interface DepositPair {
  key: string
  from: Identity
  to: Uint8Array
  /** Pending messages, in seq order. */
  candidates: DepositCandidate[]
  isPending(seq: number): boolean
}

/**
 * The sender's side of offline delivery (docs/protocol.md "Messaging frames"
 * → "Offline delivery"): leaves every chunk of the pending messages of an
 * unreachable contact in its mailbox, remembers in LevelDB when each message
 * was deposited and how many holders took it, and deposits again only when
 * that is due: after `redepositIntervalMs`, or sooner (with back-off) when
 * fewer than `minHolders` took it. At most `depositChunksPerContact` chunks
 * of a contact (its oldest messages) are kept deposited at a time.
 */
export class Deposits {
  /** pair key → seq → record; loaded on a pair's first run. */
  private readonly records = new Map<string, Map<number, DepositRecord>>()
  private readonly limit: Limit
  private stopped = false

  constructor(private readonly deps: DepositsDeps) {
    this.limit = new Limit(deps.concurrency)
  }

  /**
   * Deposits the messages of `pair` that are due (side by side, within the
   * global limit); resolves with how many were deposited and the time the
   * next one falls due (undefined when none is left to deposit).
   */
  async run(pair: DepositPair): Promise<{ deposited: number; next: number | undefined }> {
    const records = await this.recordsOf(pair)
    const now = this.deps.now()
    let next: number | undefined
    const earliest = (at: number) => {
      next = next === undefined ? at : Math.min(next, at)
    }
    const due: DepositCandidate[] = []
    let budget = this.deps.config.depositChunksPerContact
    for (const candidate of pair.candidates) {
      budget -= candidate.chunks
      // The oldest message always goes, however many chunks it has.
      if (budget < 0 && candidate !== pair.candidates[0]) break
      const record = records.get(candidate.seq)
      const at = record ? this.dueAt(record) : now
      if (at > now) earliest(at)
      else due.push(candidate)
    }
    const done = await Promise.all(due.map((c) => this.limit.run(() => this.depositOne(pair, records, c))))
    for (const at of done) if (at !== undefined) earliest(at)
    return { deposited: done.filter((at) => at !== undefined).length, next }
  }

  /** Leaves one frame (an acknowledgement) in `to`'s mailbox, within the same limit; failures are logged. */
  async depositFrame(from: Identity, to: Uint8Array, frame: Uint8Array): Promise<void> {
    if (this.stopped) return
    await this.limit
      .run(async () => this.deps.port.deposit(to, await this.deps.seal(from, to, frame)))
      .catch((err: unknown) => this.deps.log.debug({ err }, 'acknowledgement not deposited'))
  }

  /** The message left the outbox (acknowledged): its record goes in the same batch. */
  forgetOp(pairKey: string, seq: number): BatchOp {
    this.records.get(pairKey)?.delete(seq)
    return this.deps.tables.deposits.delOp(joinKey(pairKey, seqKey(seq)))
  }

  /** Forgets the cached records of a pair (its identity was locked); they stay on disk. */
  unload(pairKey: string): void {
    this.records.delete(pairKey)
  }

  stop(): void {
    this.stopped = true
  }

  private dueAt(record: DepositRecord): number {
    const { redepositIntervalMs, depositAfterMs } = this.deps.config
    if (record.misses === 0) return record.at + redepositIntervalMs
    return record.at + Math.min(redepositIntervalMs, depositAfterMs * 2 ** (record.misses - 1))
  }

  /** Deposits every chunk of one message; returns when it is due again. */
  private async depositOne(
    pair: DepositPair,
    records: Map<number, DepositRecord>,
    candidate: DepositCandidate,
  ): Promise<number | undefined> {
    const { seal, port, tables, log, now, minHolders } = this.deps
    if (this.stopped || !pair.isPending(candidate.seq)) return undefined
    let ok = Number.POSITIVE_INFINITY
    try {
      const frames = await candidate.frames()
      if (!frames) return undefined
      for (const frame of frames) {
        const outcomes = await port.deposit(pair.to, await seal(pair.from, pair.to, frame))
        ok = Math.min(ok, outcomes.filter((o) => o.status === HOLDER_OK).length)
      }
    } catch (err) {
      log.debug({ err, seq: candidate.seq }, 'mailbox deposit failed')
      ok = 0
    }
    const misses = ok >= minHolders ? 0 : (records.get(candidate.seq)?.misses ?? 0) + 1
    const record = { at: now(), ok: Number.isFinite(ok) ? ok : 0, misses }
    // Acknowledged while we deposited: the outbox deleted its entry, keep no record.
    if (this.stopped || !pair.isPending(candidate.seq)) return undefined
    records.set(candidate.seq, record)
    await tables.deposits.put(joinKey(pair.key, seqKey(candidate.seq)), record)
    log.debug({ seq: candidate.seq, holders: record.ok }, 'message deposited in the mailbox')
    return this.dueAt(record)
  }

  /** The pair's records; on the first load those of messages no longer pending are deleted. */
  private async recordsOf(pair: DepositPair): Promise<Map<number, DepositRecord>> {
    const known = this.records.get(pair.key)
    if (known) return known
    const { deposits } = this.deps.tables
    const records = new Map<number, DepositRecord>()
    const stale: string[] = []
    for await (const [key, record] of deposits.entries({ prefix: `${pair.key}:` })) {
      const seq = Number(key.slice(key.lastIndexOf(':') + 1))
      if (pair.isPending(seq)) records.set(seq, record)
      else stale.push(key)
    }
    if (stale.length > 0) await this.deps.store.batch(stale.map((key) => deposits.delOp(key)))
    this.records.set(pair.key, records)
    return records
  }
}

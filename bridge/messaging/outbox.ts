import type { MessagingConfig } from '../config/sections/messaging.js'
import type { Identity } from '../crypto/identity.js'
import type { Logger } from '../log.js'
import { OnionError } from '../onion/errors.js'
import type { BatchOp, Store } from '../store/index.js'
import { type AckFrame, encodeFrame, MESSAGE_ID_BYTES, STREAM_ID_BYTES } from '../wire/frame.js'
import { Backoff } from './backoff.js'
import type { DepositPair, Deposits } from './deposits.js'
import { MessengerError } from './messenger-errors.js'
import { InFlight } from './serial.js'
import { hex, joinKey, type MessagingTables, seqKey, unhex } from './tables.js'

const MAX_SEQ = 0xffffffff
const UNSENT = 0
const IN_FLIGHT = 1
const ACKED = 2

export interface OutboxDeps {
  store: Store
  tables: MessagingTables
  config: MessagingConfig
  log: Logger
  now: () => number
  random: (n: number) => Uint8Array
  uniform: () => number
  /** Body bytes per DATA chunk. */
  chunkBytes: number
  /** Seals `frame` for `to` and hands it to the transport; throws when either fails. */
  transmit(from: Identity, to: Uint8Array, frame: Uint8Array): Promise<void>
  forget(to: Uint8Array): void
  acked(from: Uint8Array, to: Uint8Array, id: Uint8Array): void
  unreachable(from: Uint8Array, to: Uint8Array): void
  /** Offline delivery: pending messages of a contact that is gone are left in its mailbox. */
  deposits?: Deposits
}

/** One reliable message waiting for its final acknowledgement. */
class OutMessage {
  /** Per chunk: UNSENT, IN_FLIGHT or ACKED (the receiver's latest word on it). */
  readonly state: Uint8Array
  readonly sentAt: Float64Array
  /** Chunks to send again at the next pump: retries and probes. */
  readonly due = new Set<number>()

  constructor(
    readonly seq: number,
    readonly id: Uint8Array,
    readonly timestamp: number,
    size: number,
    chunkBytes: number,
    /** Kept only while the message is near the head of the queue; read back from the outbox otherwise. */
    public body: Uint8Array | undefined,
  ) {
    const count = Math.max(1, Math.ceil(size / chunkBytes))
    this.state = new Uint8Array(count)
    this.sentAt = new Float64Array(count)
  }

  get count(): number {
    return this.state.length
  }
}

/** What we send to one contact from one local identity: its stream, queue, window and timers. */
class SendPair {
  readonly pending = new Map<number, OutMessage>()
  /** send() calls between seq assignment and the end of their write. */
  writing = 0
  inFlight = 0
  /** Some message may have due chunks (saves scanning a long queue at every chunk). */
  dueMarked = false
  closed = false
  retryTimer: NodeJS.Timeout | undefined
  unreachableTimer: NodeJS.Timeout | undefined
  unreachableSent = false
  lastProgressAt: number
  depositTimer: NodeJS.Timeout | undefined
  depositing = false
  /** The contact had no record while a deposit ran: run again at once when it ends. */
  depositAgain = false

  constructor(
    readonly key: string,
    readonly from: Identity,
    readonly to: Uint8Array,
    readonly stream: Uint8Array,
    public nextSeq: number,
    public lastTimestamp: number,
    readonly backoff: Backoff,
    now: number,
  ) {
    this.lastProgressAt = now
  }
}

/**
 * The sender's half of reliable delivery: messages are written to the outbox
 * (with the stream's next seq, in one batch) before send() resolves, then
 * pumped in chunks, at most `windowChunks` unacknowledged at a time, retried
 * with back-off until the receiver acknowledges that it stored them.
 */
export class Outbox {
  private readonly pairs = new Map<string, SendPair>()
  private readonly writes = new InFlight()
  private stopped = false

  constructor(private readonly deps: OutboxDeps) {}

  /** Loads an identity's streams and pending messages and starts sending them. */
  async load(from: Identity): Promise<void> {
    const { streams, outbox } = this.deps.tables
    const prefix = `${hex(from.publicKey)}:`
    for await (const [key, record] of streams.entries({ prefix })) {
      const to = unhex(key.slice(prefix.length))
      this.pairs.set(key, this.newPair(from, to, record.stream, record.nextSeq, record.lastTimestamp))
    }
    for await (const [key, record] of outbox.entries({ prefix })) {
      const pair = this.pairs.get(key.slice(0, key.lastIndexOf(':')))
      if (!pair) {
        this.deps.log.warn({ key }, 'outbox entry without its stream record; skipped')
        continue
      }
      const seq = Number(key.slice(key.lastIndexOf(':') + 1))
      const keep = pair.pending.size < this.deps.config.windowChunks ? record.body : undefined
      const message = new OutMessage(
        seq,
        record.id,
        record.timestamp,
        record.body.length,
        this.deps.chunkBytes,
        keep,
      )
      pair.pending.set(seq, message)
    }
    for (const pair of this.pairsOf(from.publicKey)) if (pair.pending.size > 0) this.start(pair)
  }

  /** Stops sending for this identity; its outbox stays on disk for the next load. */
  unload(from: Uint8Array): void {
    for (const pair of this.pairsOf(from)) this.close(pair)
  }

  async send(
    from: Identity,
    to: Uint8Array,
    body: Uint8Array,
    alsoWrite: BatchOp[] = [],
  ): Promise<{ id: Uint8Array; timestamp: number }> {
    const { config, tables, store, now, random } = this.deps
    const pair = this.pairFor(from, to)
    if (pair.pending.size + pair.writing >= config.outboxPerContact)
      throw new MessengerError(
        'OUTBOX_FULL',
        `${config.outboxPerContact} messages already wait for this contact (messaging.outboxPerContact)`,
      )
    if (pair.nextSeq > MAX_SEQ) throw new MessengerError('STREAM_EXHAUSTED', 'this stream used every seq')
    // Assigned before the write, so concurrent sends get distinct, increasing seqs and timestamps;
    // LevelDB commits batches in call order, so the stream record ends at the highest.
    const seq = pair.nextSeq++
    const timestamp = Math.max(now(), pair.lastTimestamp + 1)
    pair.lastTimestamp = timestamp
    const id = random(MESSAGE_ID_BYTES)
    pair.writing++
    try {
      await this.writes.track(
        store.batch([
          ...alsoWrite,
          tables.outbox.putOp(joinKey(pair.key, seqKey(seq)), { id, timestamp, body }),
          tables.streams.putOp(pair.key, {
            stream: pair.stream,
            nextSeq: pair.nextSeq,
            lastTimestamp: timestamp,
          }),
        ]),
      )
    } finally {
      pair.writing--
    }
    if (pair.closed) return { id, timestamp }
    const keep = pair.pending.size < config.windowChunks ? body : undefined
    pair.pending.set(seq, new OutMessage(seq, id, timestamp, body.length, this.deps.chunkBytes, keep))
    this.start(pair)
    return { id, timestamp }
  }

  /** An acknowledgement from `to` for what `from` sent it. */
  handleAck(from: Uint8Array, to: Uint8Array, frame: AckFrame): 'ok' | 'stale' {
    const pair = this.pairs.get(joinKey(hex(from), hex(to)))
    if (!pair || !sameBytes(pair.stream, frame.stream)) return 'stale'
    let progress = false
    for (const entry of frame.entries) {
      const message = pair.pending.get(entry.seq)
      if (!message) continue
      if (entry.chunks === 'stored') {
        this.finish(pair, message)
        progress = true
      } else if (this.applyChunkAck(pair, message, new Set(entry.chunks))) {
        progress = true
      }
    }
    if (progress) {
      // As TCP restarts its retransmission timer on an ACK of new data (RFC 6298 §5.3).
      pair.backoff.reset()
      pair.lastProgressAt = this.deps.now()
      this.armRetry(pair, true)
      this.armUnreachable(pair)
      this.armDeposit(pair)
    }
    this.pump(pair)
    return 'ok'
  }

  /**
   * Any authentic frame from `to`: it is alive. A queue that was backing off
   * starts over and resends now what waited longer than the initial delay
   * (not what was just sent: the contact may simply be talking at the same time).
   */
  heard(from: Uint8Array, to: Uint8Array): void {
    const pair = this.pairs.get(joinKey(hex(from), hex(to)))
    if (!pair) return
    pair.unreachableSent = false
    pair.lastProgressAt = this.deps.now()
    this.armUnreachable(pair)
    this.armDeposit(pair)
    if (pair.backoff.backedOff) this.resendNow(pair, this.deps.now() - this.deps.config.retryInitialMs)
  }

  /** The contact came back: every local identity resends what it has pending for it. */
  retryNow(to: Uint8Array): void {
    const pairs = [...this.pairs.values()].filter((p) => sameBytes(p.to, to) && p.pending.size > 0)
    if (pairs.length > 0) this.deps.forget(to)
    for (const pair of pairs) this.resendNow(pair, Number.POSITIVE_INFINITY)
  }

  /** Messages waiting for acknowledgement, all contacts. */
  count(): number {
    let n = 0
    for (const pair of this.pairs.values()) n += pair.pending.size
    return n
  }

  async stop(): Promise<void> {
    this.stopped = true
    this.deps.deposits?.stop()
    for (const pair of this.pairs.values()) this.close(pair)
    await this.writes.settled()
  }

  private pairsOf(from: Uint8Array): SendPair[] {
    return [...this.pairs.values()].filter((p) => sameBytes(p.from.publicKey, from))
  }

  private newPair(
    from: Identity,
    to: Uint8Array,
    stream: Uint8Array,
    nextSeq: number,
    last: number,
  ): SendPair {
    const { config, uniform, now } = this.deps
    const backoff = new Backoff(config.retryInitialMs, config.retryMaxMs, uniform)
    const key = joinKey(hex(from.publicKey), hex(to))
    return new SendPair(key, from, to, stream, nextSeq, last, backoff, now())
  }

  /** The pair's stream; a contact we never wrote to gets a fresh random stream id (persisted by send). */
  private pairFor(from: Identity, to: Uint8Array): SendPair {
    const key = joinKey(hex(from.publicKey), hex(to))
    let pair = this.pairs.get(key)
    if (!pair) {
      pair = this.newPair(from, to.slice(), this.deps.random(STREAM_ID_BYTES), 0, 0)
      this.pairs.set(key, pair)
    }
    return pair
  }

  private start(pair: SendPair): void {
    if (pair.unreachableTimer === undefined) {
      pair.lastProgressAt = this.deps.now()
      this.armUnreachable(pair)
    }
    this.armRetry(pair, false)
    // A new message is due for deposit depositAfterMs after the contact's last sign of life.
    this.armDeposit(pair)
    this.pump(pair)
  }

  private close(pair: SendPair): void {
    pair.closed = true
    clearTimeout(pair.retryTimer)
    clearTimeout(pair.unreachableTimer)
    clearTimeout(pair.depositTimer)
    this.deps.deposits?.unload(pair.key)
    this.pairs.delete(pair.key)
  }

  /** Applies the receiver's current set of chunks; returns whether a chunk is newly acknowledged. */
  private applyChunkAck(pair: SendPair, message: OutMessage, received: Set<number>): boolean {
    let progress = false
    for (let i = 0; i < message.count; i++) {
      const state = message.state[i]!
      if (received.has(i)) {
        if (state === ACKED) continue
        if (state === IN_FLIGHT) pair.inFlight--
        message.state[i] = ACKED
        message.due.delete(i)
        progress = true
      } else if (state === ACKED) {
        // The receiver lost it (restarted mid-message): send it again.
        message.state[i] = UNSENT
      }
    }
    return progress
  }

  /** The receiver stored the message durably: it leaves the outbox. */
  private finish(pair: SendPair, message: OutMessage): void {
    for (const state of message.state) if (state === IN_FLIGHT) pair.inFlight--
    pair.pending.delete(message.seq)
    const key = joinKey(pair.key, seqKey(message.seq))
    const { deposits, tables, store } = this.deps
    const ops = [tables.outbox.delOp(key), ...(deposits ? [deposits.forgetOp(pair.key, message.seq)] : [])]
    this.writes
      .track(store.batch(ops))
      .then(() => this.deps.acked(pair.from.publicKey, pair.to, message.id))
      .catch((err) => this.deps.log.warn({ err, key }, 'cannot delete an acknowledged outbox entry'))
    if (pair.pending.size === 0) {
      clearTimeout(pair.retryTimer)
      clearTimeout(pair.unreachableTimer)
      clearTimeout(pair.depositTimer)
      pair.retryTimer = undefined
      pair.unreachableTimer = undefined
      pair.depositTimer = undefined
    }
  }

  /**
   * Starts sending due chunks, then new ones while the window has room. The
   * attempts run side by side (a transport may take a round trip per send);
   * the window bounds how many.
   */
  private pump(pair: SendPair): void {
    for (let next = this.nextChunk(pair); next && !pair.closed; next = this.nextChunk(pair)) {
      void this.sendChunk(pair, next.message, next.index)
    }
  }

  private nextChunk(pair: SendPair): { message: OutMessage; index: number } | undefined {
    for (const message of pair.dueMarked ? pair.pending.values() : []) {
      for (const index of message.due) {
        message.due.delete(index)
        if (message.state[index] === UNSENT) {
          message.state[index] = IN_FLIGHT
          pair.inFlight++
        }
        return { message, index }
      }
    }
    pair.dueMarked = false
    if (pair.inFlight >= this.deps.config.windowChunks) return undefined
    for (const message of pair.pending.values()) {
      const index = message.state.indexOf(UNSENT)
      if (index >= 0) {
        message.state[index] = IN_FLIGHT
        pair.inFlight++
        return { message, index }
      }
    }
    return undefined
  }

  private async sendChunk(pair: SendPair, message: OutMessage, index: number): Promise<void> {
    message.sentAt[index] = this.deps.now()
    try {
      const body = message.body ?? (await this.loadBody(pair, message))
      if (!body || !pair.pending.has(message.seq)) return
      await this.deps.transmit(pair.from, pair.to, this.chunkFrame(pair, message, body, index))
    } catch (err) {
      // A failed attempt, like a lost one: the retry timer sends it again.
      this.deps.log.debug({ err, seq: message.seq, index }, 'chunk not sent')
      if (err instanceof OnionError && err.code === 'NO_RECORD') this.depositNow(pair)
    }
  }

  private chunkFrame(pair: SendPair, message: OutMessage, body: Uint8Array, index: number): Uint8Array {
    const { chunkBytes } = this.deps
    return encodeFrame({
      type: 'data',
      reliable: true,
      stream: pair.stream,
      seq: message.seq,
      id: message.id,
      timestamp: message.timestamp,
      index,
      count: message.count,
      body: body.subarray(index * chunkBytes, (index + 1) * chunkBytes),
    })
  }

  private async loadBody(pair: SendPair, message: OutMessage): Promise<Uint8Array | undefined> {
    message.body = await this.readBody(pair, message)
    return message.body
  }

  private async readBody(pair: SendPair, message: OutMessage): Promise<Uint8Array | undefined> {
    return (await this.deps.tables.outbox.get(joinKey(pair.key, seqKey(message.seq))))?.body
  }

  /**
   * (Re)arms the deposit timer: due `depositAfterMs` after the contact's last
   * sign of life, or at `at` when that is later (what was deposited is due again then).
   */
  private armDeposit(pair: SendPair, at = 0): void {
    if (!this.deps.deposits) return
    clearTimeout(pair.depositTimer)
    pair.depositTimer = undefined
    if (pair.closed || this.stopped || pair.pending.size === 0 || pair.depositing) return
    const due = Math.max(at, pair.lastProgressAt + this.deps.config.depositAfterMs)
    pair.depositTimer = setTimeout(() => this.deposit(pair), Math.max(0, due - this.deps.now()))
    pair.depositTimer.unref()
  }

  /** The contact has no rendezvous record: it is offline, deposit without waiting. */
  private depositNow(pair: SendPair): void {
    if (pair.depositing) pair.depositAgain = true
    else this.deposit(pair)
  }

  private deposit(pair: SendPair): void {
    const { deposits, log, now, config } = this.deps
    clearTimeout(pair.depositTimer)
    pair.depositTimer = undefined
    if (!deposits || pair.closed || this.stopped || pair.pending.size === 0 || pair.depositing) return
    pair.depositing = true
    pair.depositAgain = false
    const nextSeq = pair.nextSeq
    deposits
      .run(this.depositPair(pair))
      .catch((err: unknown) => {
        if (!this.stopped) log.warn({ err }, 'mailbox deposits failed')
        return { deposited: 0, next: undefined }
      })
      .then(({ deposited, next }) => {
        pair.depositing = false
        if (deposited > 0) log.info({ deposited }, 'messages left in the contact’s mailbox')
        if (pair.depositAgain) this.deposit(pair)
        // Messages sent during the run have no record yet: due as any new message.
        else if (pair.nextSeq !== nextSeq) this.armDeposit(pair)
        else this.armDeposit(pair, next ?? now() + config.depositAfterMs)
      })
  }

  private depositPair(pair: SendPair): DepositPair {
    return {
      key: pair.key,
      from: pair.from,
      to: pair.to,
      candidates: [...pair.pending.values()].map((message) => ({
        seq: message.seq,
        chunks: message.count,
        frames: async () => {
          const body = message.body ?? (await this.readBody(pair, message))
          if (!body) return undefined
          return Array.from({ length: message.count }, (_, i) => this.chunkFrame(pair, message, body, i))
        },
      })),
      isPending: (seq) => !pair.closed && pair.pending.has(seq),
    }
  }

  /** (Re)arms the retry timer; `restart` replaces a running one (after progress the delay starts over). */
  private armRetry(pair: SendPair, restart: boolean): void {
    if (pair.closed || this.stopped || pair.pending.size === 0) return
    if (pair.retryTimer !== undefined && !restart) return
    clearTimeout(pair.retryTimer)
    pair.retryTimer = setTimeout(() => this.retry(pair), pair.backoff.next())
    pair.retryTimer.unref()
  }

  private retry(pair: SendPair): void {
    pair.retryTimer = undefined
    if (pair.closed || pair.pending.size === 0) return
    // Chunks sent in the last half of the wait are not overdue yet (peek() is twice the wait just taken).
    const resent = this.markDue(pair, this.deps.now() - pair.backoff.peek() / 4)
    if (resent) this.deps.forget(pair.to)
    else pair.backoff.reset()
    this.armRetry(pair, false)
    this.pump(pair)
  }

  /**
   * Marks for resending every chunk in flight since before `sentBefore`, and
   * probes each message whose chunks all arrived but whose final
   * acknowledgement did not (its last chunk draws the receiver's answer).
   */
  private markDue(pair: SendPair, sentBefore: number): boolean {
    pair.dueMarked = true
    let any = false
    for (const message of pair.pending.values()) {
      let settled = true
      for (let i = 0; i < message.count; i++) {
        if (message.state[i] !== ACKED) settled = false
        if (message.state[i] === IN_FLIGHT && message.sentAt[i]! <= sentBefore) {
          message.due.add(i)
          any = true
        }
      }
      if (settled) {
        message.due.add(message.count - 1)
        any = true
      }
    }
    return any
  }

  /** Starts the back-off over and resends the chunks sent before `sentBefore` (and probes) now. */
  private resendNow(pair: SendPair, sentBefore: number): void {
    pair.backoff.reset()
    this.markDue(pair, sentBefore)
    this.armRetry(pair, true)
    this.pump(pair)
  }

  private armUnreachable(pair: SendPair): void {
    clearTimeout(pair.unreachableTimer)
    pair.unreachableTimer = undefined
    if (pair.closed || this.stopped || pair.pending.size === 0 || pair.unreachableSent) return
    const wait = Math.max(0, pair.lastProgressAt + this.deps.config.unreachableAfterMs - this.deps.now())
    pair.unreachableTimer = setTimeout(() => {
      pair.unreachableTimer = undefined
      if (pair.closed || pair.pending.size === 0 || pair.unreachableSent) return
      pair.unreachableSent = true
      this.deps.unreachable(pair.from.publicKey, pair.to)
    }, wait)
    pair.unreachableTimer.unref()
  }
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i])
}

import type { MessagingConfig } from '../config/sections/messaging.js'
import type { Identity } from '../crypto/identity.js'
import type { Logger } from '../log.js'
import type { Store } from '../store/index.js'
import type { AckEntry, DataFrame } from '../wire/frame.js'
import { Backoff } from './backoff.js'
import { StreamOrder } from './ordering.js'
import { Reassembly } from './reassembly.js'
import { InFlight, KeyedSerial } from './serial.js'
import { hex, joinKey, type MessagingTables, seqKey, unhex } from './tables.js'

export interface InboundMessage {
  /** The sender's address (Ed25519 public key), authenticated by the envelope. */
  from: Uint8Array
  /** The local identity it was sent to. */
  to: Uint8Array
  id: Uint8Array
  /** Milliseconds since the epoch, set by the sender; strictly increasing per stream. */
  timestamp: number
  body: Uint8Array
  reliable: boolean
}

/** Why the receiver dropped a frame without storing it. */
export type InboxDrop =
  | 'tooFarAhead'
  | 'inboxFull'
  | 'reassemblyFull'
  | 'inconsistent'
  | 'tooLarge'
  | 'unreliableData'

/** What became of a DATA frame: stored durably, seen before, one chunk held in memory, or dropped. */
export type InboxOutcome = 'stored' | 'duplicate' | 'partial' | 'stopped' | InboxDrop

export interface InboxDeps {
  store: Store
  tables: MessagingTables
  config: MessagingConfig
  log: Logger
  now: () => number
  uniform: () => number
  deliver(message: InboundMessage): Promise<void>
  ack(local: Identity, remote: Uint8Array, stream: Uint8Array, entry: AckEntry): void
  dropped(reason: InboxDrop | 'duplicate'): void
}

/** Streams kept in memory per contact beyond those with work in progress. */
const CACHED_STREAMS = 8
/** Contacts kept in memory beyond those with work in progress (anyone can write from fresh addresses). */
const CACHED_PAIRS = 1024

interface RecvStream {
  id: Uint8Array
  key: string
  order: StreamOrder
  /** seq → chunks so far. */
  partials: Map<number, Reassembly>
}

/** What one local identity receives from one contact. */
class RecvPair {
  readonly streams = new Map<string, RecvStream>()
  partials = 0
  stored = 0
  /** Frames being handled: the pair stays in memory meanwhile. */
  busy = 0
  delivering = false
  timer: NodeJS.Timeout | undefined

  constructor(
    readonly key: string,
    readonly local: Identity,
    readonly remote: Uint8Array,
    /** Back-off between attempts when deliver() throws. */
    readonly retry: Backoff,
  ) {}
}

/**
 * The receiver's half of reliable delivery: reassembles chunks (bounded per
 * sender), stores a complete message in the inbox together with its stream's
 * delivery state in one batch, and only then acknowledges it; hands stored
 * messages to deliver() in seq order and deletes each after deliver() resolved.
 *
 * Progress acknowledgements of single chunks come from memory: after a restart
 * the partial messages are gone, the next acknowledgement says so, and the
 * sender sends those chunks again.
 */
export class Inbox {
  private readonly pairs = new Map<string, RecvPair>()
  private readonly serial = new KeyedSerial()
  /** Store writes and deliveries under way: stop() lets them finish. */
  private readonly writes = new InFlight()
  private stopped = false

  constructor(private readonly deps: InboxDeps) {}

  /** Reloads the messages stored but not yet delivered for `local` and delivers them. */
  async load(local: Identity): Promise<void> {
    const prefix = `${hex(local.publicKey)}:`
    const found: { remote: string; stream: string; seq: number }[] = []
    for await (const key of this.deps.tables.inbox.keys({ prefix })) {
      const [remote, stream, seq] = key.slice(prefix.length).split(':')
      found.push({ remote: remote!, stream: stream!, seq: Number(seq) })
    }
    const now = this.deps.now()
    for (const { remote, stream, seq } of found) {
      const pair = this.pairFor(local, unhex(remote))
      const recv = await this.streamFor(pair, unhex(stream))
      if (!recv.order.stored.has(seq)) pair.stored++
      recv.order.stored.set(seq, now)
    }
    for (const pair of this.pairs.values()) if (pair.local === local) this.kick(pair)
  }

  unload(local: Uint8Array): void {
    const prefix = `${hex(local)}:`
    for (const [key, pair] of this.pairs) {
      if (!key.startsWith(prefix)) continue
      clearTimeout(pair.timer)
      this.pairs.delete(key)
    }
  }

  /** An authentic DATA frame from `remote` to `local`; 'stored' once the message is durable. */
  async handleData(local: Identity, remote: Uint8Array, frame: DataFrame): Promise<InboxOutcome> {
    const pair = this.pairFor(local, remote)
    pair.busy++
    try {
      return await this.serial.run(pair.key, async (): Promise<InboxOutcome> => {
        if (this.stopped) return 'stopped'
        if (!frame.reliable) return this.drop('unreliableData')
        return this.accept(pair, await this.streamFor(pair, frame.stream), frame)
      })
    } finally {
      pair.busy--
    }
  }

  /** Messages stored and not yet delivered; partly received messages. */
  counts(): { stored: number; partial: number } {
    let stored = 0
    let partial = 0
    for (const pair of this.pairs.values()) {
      stored += pair.stored
      partial += pair.partials
    }
    return { stored, partial }
  }

  async stop(): Promise<void> {
    this.stopped = true
    for (const pair of this.pairs.values()) clearTimeout(pair.timer)
    await this.writes.settled()
  }

  private pairFor(local: Identity, remote: Uint8Array): RecvPair {
    const key = joinKey(hex(local.publicKey), hex(remote))
    let pair = this.pairs.get(key)
    if (!pair) {
      const { retryInitialMs, retryMaxMs } = this.deps.config
      pair = new RecvPair(
        key,
        local,
        remote.slice(),
        new Backoff(retryInitialMs, retryMaxMs, this.deps.uniform),
      )
      this.forgetIdlePairs()
      this.pairs.set(key, pair)
    }
    return pair
  }

  /** Their state is in LevelDB; it is read again when they write next. */
  private forgetIdlePairs(): void {
    if (this.pairs.size < CACHED_PAIRS) return
    for (const [key, pair] of this.pairs) {
      const idle = pair.stored === 0 && pair.partials === 0 && pair.busy === 0 && !pair.delivering
      if (idle && pair.timer === undefined) this.pairs.delete(key)
    }
  }

  private async streamFor(pair: RecvPair, id: Uint8Array): Promise<RecvStream> {
    const key = joinKey(pair.key, hex(id))
    const cached = pair.streams.get(hex(id))
    if (cached) return cached
    const record = await this.deps.tables.delivery.get(key)
    const stream = pair.streams.get(hex(id)) ?? {
      id,
      key,
      order: new StreamOrder(record),
      partials: new Map(),
    }
    pair.streams.set(hex(id), stream)
    for (const [streamHex, other] of pair.streams) {
      if (pair.streams.size <= CACHED_STREAMS) break
      if (other !== stream && other.partials.size === 0 && other.order.stored.size === 0)
        pair.streams.delete(streamHex)
    }
    return stream
  }

  private drop(reason: InboxDrop | 'duplicate'): InboxDrop | 'duplicate' {
    this.deps.dropped(reason)
    return reason
  }

  private async accept(pair: RecvPair, stream: RecvStream, frame: DataFrame): Promise<InboxOutcome> {
    const { config } = this.deps
    const { seq } = frame
    if (stream.order.has(seq)) {
      // Stored or delivered already: the sender missed our acknowledgement; say it again.
      this.deps.ack(pair.local, pair.remote, stream.id, { seq, chunks: 'stored' })
      return this.drop('duplicate')
    }
    if (seq >= stream.order.floor + config.outboxPerContact) return this.drop('tooFarAhead')
    if (pair.stored >= config.outboxPerContact) return this.drop('inboxFull')
    if (frame.count === 1) return this.store(pair, stream, frame, frame.body)
    const partial = this.partialFor(pair, stream, frame)
    if (typeof partial === 'string') return this.drop(partial)
    if (!partial.add(frame.index, frame.body)) {
      this.removePartial(pair, stream, seq)
      return this.drop('tooLarge')
    }
    partial.touchedAt = this.deps.now()
    if (!partial.complete) {
      this.deps.ack(pair.local, pair.remote, stream.id, { seq, chunks: partial.indices() })
      return 'partial'
    }
    return this.store(pair, stream, frame, partial.body())
  }

  private partialFor(
    pair: RecvPair,
    stream: RecvStream,
    frame: DataFrame,
  ): Reassembly | 'inconsistent' | 'reassemblyFull' {
    const { config, now } = this.deps
    const existing = stream.partials.get(frame.seq)
    if (existing) return existing.matches(frame) ? existing : 'inconsistent'
    if (pair.partials >= config.reassemblyPerSender && !this.evictStalePartial(pair)) return 'reassemblyFull'
    const partial = new Reassembly(frame, config.maxMessageBytes, now())
    stream.partials.set(frame.seq, partial)
    pair.partials++
    return partial
  }

  /** Frees the slot of the partial message that saw no chunk for longer than the hold timeout, if any. */
  private evictStalePartial(pair: RecvPair): boolean {
    const staleBefore = this.deps.now() - this.deps.config.holdTimeoutMs
    for (const stream of pair.streams.values()) {
      for (const [seq, partial] of stream.partials) {
        if (partial.touchedAt < staleBefore) {
          this.removePartial(pair, stream, seq)
          return true
        }
      }
    }
    return false
  }

  private removePartial(pair: RecvPair, stream: RecvStream, seq: number): void {
    if (stream.partials.delete(seq)) pair.partials--
  }

  /** Durable before acknowledged: the message and its stream's state in one batch, then the ack. */
  private async store(
    pair: RecvPair,
    stream: RecvStream,
    frame: DataFrame,
    body: Uint8Array,
  ): Promise<'stored'> {
    const { store, tables } = this.deps
    this.removePartial(pair, stream, frame.seq)
    await this.writes.track(
      store.batch([
        tables.inbox.putOp(joinKey(stream.key, seqKey(frame.seq)), {
          id: frame.id,
          timestamp: frame.timestamp,
          body,
        }),
        tables.delivery.putOp(stream.key, stream.order.record()),
      ]),
    )
    stream.order.stored.set(frame.seq, this.deps.now())
    pair.stored++
    this.deps.ack(pair.local, pair.remote, stream.id, { seq: frame.seq, chunks: 'stored' })
    this.kick(pair)
    return 'stored'
  }

  private kick(pair: RecvPair): void {
    void this.deliverLoop(pair)
  }

  /** Delivers what may go, one message at a time per contact; waits for held ones, retries failed ones. */
  private async deliverLoop(pair: RecvPair): Promise<void> {
    if (pair.delivering) return
    pair.delivering = true
    clearTimeout(pair.timer)
    pair.timer = undefined
    try {
      for (let next = this.pick(pair); next; next = this.pick(pair)) {
        if (!(await this.writes.track(this.deliverOne(pair, next.stream, next.seq)))) {
          this.wake(pair, pair.retry.next())
          return
        }
      }
      this.armHold(pair)
    } finally {
      pair.delivering = false
    }
  }

  private pick(pair: RecvPair): { stream: RecvStream; seq: number } | undefined {
    if (this.stopped || this.pairs.get(pair.key) !== pair) return undefined
    const now = this.deps.now()
    for (const stream of pair.streams.values()) {
      const seq = stream.order.next(now, this.deps.config.holdTimeoutMs)
      if (seq !== undefined) return { stream, seq }
    }
    return undefined
  }

  /**
   * Hands one stored message to deliver(), then deletes it with the new
   * delivery state in one batch (stop() waits for both). A crash between the
   * two shows it once more after the restart (at most one message per
   * contact); its `id` tells the copies apart.
   */
  private async deliverOne(pair: RecvPair, stream: RecvStream, seq: number): Promise<boolean> {
    const { tables, store, log } = this.deps
    const key = joinKey(stream.key, seqKey(seq))
    try {
      const record = await tables.inbox.get(key)
      if (record) {
        await this.deps.deliver({ from: pair.remote, to: pair.local.publicKey, reliable: true, ...record })
      }
      stream.order.delivered(seq)
      pair.stored--
      await this.writes.track(
        store.batch([tables.inbox.delOp(key), tables.delivery.putOp(stream.key, stream.order.record())]),
      )
      pair.retry.reset()
      return true
    } catch (err) {
      log.warn({ err, seq }, 'delivery failed; retrying later')
      return false
    }
  }

  private armHold(pair: RecvPair): void {
    let until: number | undefined
    for (const stream of pair.streams.values()) {
      const held = stream.order.heldUntil(this.deps.config.holdTimeoutMs)
      if (held !== undefined && (until === undefined || held < until)) until = held
    }
    if (until !== undefined) this.wake(pair, until - this.deps.now())
  }

  private wake(pair: RecvPair, delayMs: number): void {
    if (this.stopped) return
    clearTimeout(pair.timer)
    pair.timer = setTimeout(() => this.kick(pair), Math.max(1, delayMs))
    pair.timer.unref()
  }
}

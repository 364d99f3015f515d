import { randomBytes } from 'node:crypto'
import { EventEmitter } from 'node:events'
import type { MessagingConfig } from '../config/sections/messaging.js'
import { CryptoError } from '../crypto/errors.js'
import { type Identity, x25519FromEd25519PublicKey } from '../crypto/identity.js'
import type { Logger } from '../log.js'
import { OnionError } from '../onion/errors.js'
import type { BatchOp, Store } from '../store/index.js'
import {
  DATA_HEADER_BYTES,
  decodeFrame,
  EPHEMERAL_HEADER_BYTES,
  type EphemeralFrame,
  encodeFrame,
  type Frame,
  MESSAGE_ID_BYTES,
} from '../wire/frame.js'
import { AckQueue, packAcks } from './ack-queue.js'
import { uniform } from './backoff.js'
import { Deposits } from './deposits.js'
import { type EnvelopeSealer, MAX_FRAME_BYTES, type OpenedEnvelope } from './envelope.js'
import { EnvelopeError } from './errors.js'
import { type InboundMessage, Inbox, type InboxDrop, type InboxOutcome } from './inbox.js'
import { type FetchReport, MailboxFetcher, type ReceiveOutcome } from './mailbox-fetcher.js'
import type { MailboxPort } from './mailbox-port.js'
import { MessengerError } from './messenger-errors.js'
import { Outbox } from './outbox.js'
import { RecentIds } from './recent-ids.js'
import { hex, joinKey, messagingTables } from './tables.js'

export type { InboundMessage } from './inbox.js'
export type { FetchReport, ReceiveOutcome } from './mailbox-fetcher.js'
export type { MailboxPort } from './mailbox-port.js'

export interface MessageTransport {
  /** Hands the envelope to the network; NOT a delivery proof. */
  send(to: Uint8Array, envelope: Uint8Array): Promise<void>
  /** The next send looks the route up again. */
  forget(to: Uint8Array): void
}

export interface MessengerOptions {
  store: Store
  transport: MessageTransport
  sealer: Pick<EnvelopeSealer, 'seal' | 'open'>
  config: MessagingConfig
  log: Logger
  now?: () => number
  random?: (n: number) => Uint8Array
  /** Awaited; for reliable messages called once per message, in order per (from, to); a throw → retried later. */
  deliver(message: InboundMessage): Promise<void>
  /** Largest frame the sealer takes; MAX_FRAME_BYTES unless a test wants many small chunks. */
  maxFrameBytes?: number
  /** Offline delivery through network mailboxes; without it messages wait in the outbox only. */
  mailbox?: MessengerMailbox
}

export interface MessengerMailbox {
  port: MailboxPort
  /** mailbox.holders: a deposit reaching fewer than min(this, messaging.depositMinHolders) is retried sooner. */
  holders: number
  /** Messages deposited side by side (mailbox.stampWorkers). */
  concurrency: number
  /** mailbox.fetchIntervalMs */
  fetchIntervalMs: number
}

export interface MessengerEvents {
  /** End-to-end acknowledgement of a reliable message: the receiver stored it. */
  acked: [{ from: Uint8Array; to: Uint8Array; id: Uint8Array }]
  /** Nothing acknowledged for config.unreachableAfterMs while something was pending. */
  unreachable: [{ from: Uint8Array; to: Uint8Array }]
  /** Any authentic frame from `from` to the local identity `to`. */
  heard: [{ from: Uint8Array; to: Uint8Array }]
}

/** What receive() dropped or set aside, by reason (never thrown: counted and logged at debug). */
export type MessengerDrop =
  | InboxDrop
  | 'duplicate'
  | 'unknownIdentity'
  | 'badEnvelope'
  | 'badFrame'
  | 'staleAck'
  | 'ephemeralDuplicate'
  | 'deliverFailed'
  | 'mailboxEphemeral'
  | 'internal'

/** Ephemeral message ids remembered per Messenger for dedupe (oldest forgotten first). */
const RECENT_EPHEMERAL_IDS = 4096

/**
 * End-to-end messaging over an unreliable transport: a persistent outbox with
 * chunking, windowing and retries on the sending side; reassembly, durable
 * storage before acknowledgement, dedupe and in-order delivery on the
 * receiving side (docs/protocol.md "Messaging frames").
 */
export class Messenger extends EventEmitter<MessengerEvents> {
  private readonly identities = new Map<string, Identity>()
  private readonly ready = new Map<string, Promise<void>>()
  private readonly drops = new Map<MessengerDrop, number>()
  private readonly ephemeralSeen = new RecentIds(RECENT_EPHEMERAL_IDS)
  private readonly now: () => number
  private readonly random: (n: number) => Uint8Array
  private readonly maxFrameBytes: number
  private readonly outbox: Outbox
  private readonly inbox: Inbox
  private readonly acks: AckQueue
  private readonly fetcher: MailboxFetcher | undefined
  private readonly deposits: Deposits | undefined
  /** Per (local, sender): the seqs of each stream that mailbox items of the current round stored. */
  private readonly mailboxAcks = new Map<string, MailboxAcks>()
  private stopped = false

  constructor(private readonly options: MessengerOptions) {
    super()
    const { store, config, log } = options
    this.now = options.now ?? Date.now
    this.random = options.random ?? ((n) => new Uint8Array(randomBytes(n)))
    this.maxFrameBytes = options.maxFrameBytes ?? MAX_FRAME_BYTES
    const tables = messagingTables(store)
    const common = { store, tables, config, log, now: this.now, uniform: uniform(this.random) }
    const { mailbox } = options
    const deposits =
      mailbox &&
      new Deposits({
        ...common,
        port: mailbox.port,
        seal: (from, to, frame) => options.sealer.seal(from, to, frame, { prekey: false }),
        minHolders: Math.min(config.depositMinHolders, mailbox.holders),
        concurrency: mailbox.concurrency,
      })
    this.deposits = deposits
    this.fetcher =
      mailbox &&
      new MailboxFetcher({
        port: mailbox.port,
        receive: (to, envelope) => this.receive(to, envelope, { fromMailbox: true }),
        roundDone: (identity) => this.ackMailboxSenders(identity),
        intervalMs: mailbox.fetchIntervalMs,
        log,
        uniform: common.uniform,
      })
    this.outbox = new Outbox({
      ...common,
      ...(deposits ? { deposits } : {}),
      random: this.random,
      chunkBytes: this.maxFrameBytes - DATA_HEADER_BYTES,
      transmit: (from, to, frame) => this.transmit(from, to, frame),
      forget: (to) => options.transport.forget(to),
      acked: (from, to, id) => this.notify('acked', { from, to, id }),
      unreachable: (from, to) => this.notify('unreachable', { from, to }),
    })
    this.inbox = new Inbox({
      ...common,
      deliver: options.deliver,
      ack: (local, remote, stream, entry) => this.acks.add(local, remote, stream, entry),
      dropped: (reason) => this.drop(reason),
    })
    this.acks = new AckQueue(this.maxFrameBytes, (local, remote, frame) =>
      this.transmit(local, remote, frame).catch((err) => log.debug({ err }, 'ack not sent')),
    )
  }

  /** An unlocked local identity: it may send, its outbox is pumped and its inbox delivered. */
  addIdentity(identity: Identity): void {
    const key = hex(identity.publicKey)
    if (this.identities.has(key)) return
    this.identities.set(key, identity)
    const loading = Promise.all([this.outbox.load(identity), this.inbox.load(identity)]).then(
      () => undefined,
      (err) => this.options.log.error({ err }, 'cannot load the outbox or inbox of an identity'),
    )
    this.ready.set(key, loading)
    this.fetcher?.add(identity)
  }

  removeIdentity(address: Uint8Array): void {
    const key = hex(address)
    this.identities.delete(key)
    this.ready.delete(key)
    this.fetcher?.remove(address)
    this.outbox.unload(address)
    this.inbox.unload(address)
  }

  /**
   * Fetches the identity's mailboxes now (the timer does it every
   * fetchIntervalMs); undefined without mailboxes or for an identity not added.
   */
  fetchMailbox(address: Uint8Array): Promise<FetchReport> | undefined {
    return this.fetcher?.fetchNow(address)
  }

  /**
   * Reliable (default): stored in the outbox before this resolves, then sent
   * and retried until the receiver stored it ('acked'). Ephemeral: one
   * attempt, not stored, at most one frame's worth of body.
   */
  async send(
    from: Uint8Array,
    to: Uint8Array,
    body: Uint8Array,
    options: {
      reliable?: boolean
      /** Reliable only: the caller's own records, committed in the same batch as the outbox entry. */
      alsoWrite?: BatchOp[]
    } = {},
  ): Promise<{ id: Uint8Array; timestamp: number }> {
    const identity = this.identities.get(hex(from))
    if (this.stopped) throw new MessengerError('STOPPED', 'the messenger is stopped')
    if (!identity)
      throw new MessengerError('UNKNOWN_IDENTITY', 'the sender is not an unlocked local identity')
    if (!isAddress(to)) throw new MessengerError('RECIPIENT_INVALID', 'the recipient is not a valid address')
    if (options.reliable === false) return this.sendEphemeral(identity, to, body)
    const max = this.options.config.maxMessageBytes
    if (body.length > max)
      throw new MessengerError(
        'MESSAGE_TOO_LARGE',
        `message of ${body.length} bytes; at most ${max} (messaging.maxMessageBytes)`,
      )
    await this.ready.get(hex(from))
    return this.outbox.send(identity, to, body, options.alsoWrite)
  }

  /**
   * An envelope for the local identity `to`. Never throws on bad input: counts
   * and logs at debug, and says what became of it. `fromMailbox`: fetched from
   * a mailbox, so it is no sign that the sender is online now, and an
   * ephemeral frame in it is stale.
   */
  async receive(
    to: Uint8Array,
    envelope: Uint8Array,
    options: { fromMailbox?: boolean } = {},
  ): Promise<ReceiveOutcome> {
    if (this.stopped) return 'refused'
    const local = this.identities.get(hex(to))
    if (!local) return this.drop('unknownIdentity')
    let opened: OpenedEnvelope
    try {
      opened = await this.options.sealer.open(local, envelope)
    } catch (err) {
      // Only a verdict on the bytes is final; a failing store may let it open next time.
      const final = err instanceof EnvelopeError || err instanceof CryptoError
      return this.drop(final ? 'badEnvelope' : 'internal', err)
    }
    const { from } = opened
    let frame: Frame
    try {
      frame = decodeFrame(opened.frame)
    } catch (err) {
      return this.drop('badFrame', err)
    }
    try {
      await this.ready.get(hex(to))
      if (!options.fromMailbox) {
        this.notify('heard', { from, to: local.publicKey })
        this.outbox.heard(local.publicKey, from)
      } else if (frame.type === 'ephemeral') {
        return this.drop('mailboxEphemeral')
      }
      const outcome = await this.dispatch(local, from, frame)
      if (options.fromMailbox && frame.type === 'data' && (outcome === 'stored' || outcome === 'duplicate'))
        this.noteMailboxAck(local, from, frame.stream, frame.seq)
      return outcome
    } catch (err) {
      return this.drop('internal', err)
    }
  }

  /** The contact came back: resend what is pending to it now. */
  retryNow(to: Uint8Array): void {
    this.outbox.retryNow(to)
  }

  counts(): { outbox: number; reassembling: number } {
    return { outbox: this.outbox.count(), reassembling: this.inbox.counts().partial }
  }

  /** Frames dropped by receive(), by reason; duplicates included (they are answered, not delivered). */
  dropped(): Readonly<Partial<Record<MessengerDrop, number>>> {
    return Object.fromEntries(this.drops)
  }

  async stop(): Promise<void> {
    this.stopped = true
    this.fetcher?.stop()
    this.acks.stop()
    await Promise.all([this.outbox.stop(), this.inbox.stop()])
  }

  private async dispatch(local: Identity, from: Uint8Array, frame: Frame): Promise<ReceiveOutcome> {
    switch (frame.type) {
      case 'ack':
        if (this.outbox.handleAck(local.publicKey, from, frame) === 'stale') this.drop('staleAck')
        return 'handled'
      case 'data':
        return outcomeOf(await this.inbox.handleData(local, from, frame))
      case 'ephemeral':
        await this.deliverEphemeral(local, from, frame)
        return 'handled'
    }
  }

  private async sendEphemeral(
    from: Identity,
    to: Uint8Array,
    body: Uint8Array,
  ): Promise<{ id: Uint8Array; timestamp: number }> {
    const max = this.maxFrameBytes - EPHEMERAL_HEADER_BYTES
    if (body.length > max)
      throw new MessengerError(
        'MESSAGE_TOO_LARGE',
        `ephemeral message of ${body.length} bytes; at most ${max}`,
      )
    const id = this.random(MESSAGE_ID_BYTES)
    const timestamp = this.now()
    try {
      await this.transmit(from, to, encodeFrame({ type: 'ephemeral', id, timestamp, body }))
    } catch (err) {
      this.options.log.debug({ err }, 'ephemeral message not sent')
    }
    return { id, timestamp }
  }

  private async deliverEphemeral(local: Identity, from: Uint8Array, frame: EphemeralFrame): Promise<void> {
    if (!this.ephemeralSeen.add(joinKey(hex(from), hex(frame.id)))) {
      this.drop('ephemeralDuplicate')
      return
    }
    const { id, timestamp, body } = frame
    try {
      await this.options.deliver({ from, to: local.publicKey, id, timestamp, body, reliable: false })
    } catch (err) {
      this.drop('deliverFailed', err)
    }
  }

  private noteMailboxAck(local: Identity, from: Uint8Array, stream: Uint8Array, seq: number): void {
    const key = joinKey(hex(local.publicKey), hex(from))
    let pair = this.mailboxAcks.get(key)
    if (!pair) {
      pair = { local, remote: from, streams: new Map() }
      this.mailboxAcks.set(key, pair)
    }
    let forStream = pair.streams.get(hex(stream))
    if (!forStream) {
      forStream = { stream, seqs: new Set() }
      pair.streams.set(hex(stream), forStream)
    }
    forStream.seqs.add(seq)
  }

  /**
   * After a fetch round: each sender whose mailbox items were stored gets one
   * acknowledgement of them all. Sent directly; when the sender has no record
   * (offline too) it is deposited in the sender's mailbox, so its outbox
   * empties without both being online at once. Only senders who paid a stamp
   * per item get one back: nobody makes us mint for free.
   */
  private async ackMailboxSenders(identity: Identity): Promise<void> {
    const prefix = `${hex(identity.publicKey)}:`
    const pairs = [...this.mailboxAcks].filter(([key]) => key.startsWith(prefix))
    for (const [key] of pairs) this.mailboxAcks.delete(key)
    for (const [, { local, remote, streams }] of pairs) {
      for (const { stream, seqs } of streams.values()) {
        const entries = [...seqs].sort((a, b) => a - b).map((seq) => ({ seq, chunks: 'stored' as const }))
        for (const ack of packAcks(stream, entries, this.maxFrameBytes)) {
          const frame = encodeFrame(ack)
          try {
            await this.transmit(local, remote, frame)
          } catch (err) {
            if (err instanceof OnionError && err.code === 'NO_RECORD')
              await this.deposits?.depositFrame(local, remote, frame)
            else this.options.log.debug({ err }, 'acknowledgement of mailbox items not sent')
          }
        }
      }
    }
  }

  private async transmit(from: Identity, to: Uint8Array, frame: Uint8Array): Promise<void> {
    const envelope = await this.options.sealer.seal(from, to, frame)
    await this.options.transport.send(to, envelope)
  }

  /** A listener that throws is logged; it never reaches the timers or the receive path. */
  private notify<K extends keyof MessengerEvents>(event: K, ...args: MessengerEvents[K]): void {
    try {
      // TypeScript cannot relate a generic key to its own argument tuple; the signature above does.
      this.emit(event, ...(args as never))
    } catch (err) {
      this.options.log.warn({ err, event }, 'a messenger event listener threw')
    }
  }

  private drop(reason: MessengerDrop, err?: unknown): ReceiveOutcome {
    this.count(reason)
    if (reason !== 'duplicate') this.options.log.debug({ err, reason }, 'messaging frame dropped')
    return DROP_OUTCOME[reason]
  }

  private count(reason: MessengerDrop): void {
    this.drops.set(reason, (this.drops.get(reason) ?? 0) + 1)
  }
}

interface MailboxAcks {
  local: Identity
  remote: Uint8Array
  streams: Map<string, { stream: Uint8Array; seqs: Set<number> }>
}

/** What each drop means for a mailbox item (see ReceiveOutcome). */
const DROP_OUTCOME: Record<MessengerDrop, ReceiveOutcome> = {
  duplicate: 'duplicate',
  staleAck: 'handled',
  ephemeralDuplicate: 'handled',
  deliverFailed: 'handled',
  mailboxEphemeral: 'handled',
  badEnvelope: 'junk',
  badFrame: 'junk',
  inconsistent: 'junk',
  tooLarge: 'junk',
  unreliableData: 'junk',
  unknownIdentity: 'refused',
  tooFarAhead: 'refused',
  inboxFull: 'refused',
  reassemblyFull: 'refused',
  internal: 'refused',
}

function outcomeOf(outcome: InboxOutcome): ReceiveOutcome {
  if (outcome === 'stored' || outcome === 'partial') return outcome
  return outcome === 'stopped' ? 'refused' : DROP_OUTCOME[outcome]
}

/** 32 bytes that decode to a point of Ed25519: anything else could never be sealed to. */
function isAddress(to: Uint8Array): boolean {
  if (!(to instanceof Uint8Array) || to.length !== 32) return false
  try {
    x25519FromEd25519PublicKey(to)
    return true
  } catch {
    return false
  }
}

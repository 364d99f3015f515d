import { EventEmitter } from 'node:events'
import { DOMAIN } from '../crypto/domains.js'
import { signWithDomain } from '../crypto/sign.js'
import type { Link } from '../net/link.js'
import { ReplayWindow } from '../net/replay-window.js'
import { type Cell, DestroyReason } from '../wire/cell.js'
import type { MailboxItem, MailboxResult } from '../wire/mailbox.js'
import {
  decodeRelayMessage,
  encodeRelayMessage,
  IntroduceStatus,
  MAX_INTRODUCE_PAYLOAD,
  type RelayMessage,
} from '../wire/relay-message.js'
import { OnionError } from './errors.js'
import { type CircuitHost, type RelayTarget, sequenceStart } from './host.js'
import { applyLayer, openEnd, sealEnd } from './layers.js'
import { builderFinish, type HopKeys } from './ntor.js'

type CreatedCell = Extract<Cell, { command: 'created' }>
type Reply = RelayMessage | CreatedCell

interface Waiter {
  accepts(reply: Reply): boolean
  resolve(reply: Reply): void
  reject(error: Error): void
  timer: NodeJS.Timeout
}

export interface OriginCircuitEvents {
  /** An INTRODUCE for the intro key registered on this circuit: the sender's sealed payload. */
  introduced: [payload: Uint8Array]
  /** An item a mailbox holder at the end sends in answer to a FETCH, before its result. */
  mailboxItem: [item: MailboxItem]
  closed: [reason: number]
}

export interface Hop {
  target: RelayTarget
  keys: HopKeys
}

/**
 * A circuit this node built (docs/protocol.md "Onion"): it adds every hop's
 * layer to what it sends and removes them from what it receives; the last
 * hop is the other end of the end-to-end AEAD.
 */
export class OriginCircuit extends EventEmitter<OriginCircuitEvents> {
  readonly hops: Hop[] = []
  readonly link: Link
  readonly id: number
  readonly createdAt: number
  closed = false
  readonly #host: CircuitHost
  readonly #window: ReplayWindow
  readonly #waiters = new Set<Waiter>()
  #forwardSequence = 0

  constructor(host: CircuitHost, link: Link, id: number) {
    super()
    this.#host = host
    this.link = link
    this.id = id
    this.createdAt = host.now()
    this.#window = new ReplayWindow(host.config.replayWindow)
  }

  /** The relay this circuit currently ends at. */
  get end(): RelayTarget {
    return this.hops.at(-1)!.target
  }

  /** Handshake with the first hop (CREATE/CREATED). */
  async create(target: RelayTarget): Promise<void> {
    const ephemeral = this.#host.random(32)
    const created = this.#await((r) => 'circuitId' in r, 'CREATED')
    this.#host.sendCell(this.link, {
      command: 'create',
      circuitId: this.id,
      sequence: sequenceStart(this.#host.random, 0),
      nodeKey: target.nodeKey,
      ephemeral: this.#host.backend.x25519PublicKey(ephemeral),
    })
    const reply = (await created) as CreatedCell
    this.#addHop(target, ephemeral, reply.ephemeral, reply.auth)
  }

  /** Adds a hop through the current end (EXTEND/EXTENDED, inside the layers built so far). */
  async extend(target: RelayTarget): Promise<void> {
    const ephemeral = this.#host.random(32)
    const extended = this.#await((r) => 'command' in r && r.command === 'extended', 'EXTENDED')
    this.send({
      command: 'extend',
      nodeKey: target.nodeKey,
      host: target.endpoint.host,
      port: target.endpoint.port,
      ephemeral: this.#host.backend.x25519PublicKey(ephemeral),
    })
    const reply = (await extended) as Extract<RelayMessage, { command: 'extended' }>
    this.#addHop(target, ephemeral, reply.ephemeral, reply.auth)
  }

  /** A round trip to the end and back; resolves with the time it took (ms). */
  async test(): Promise<number> {
    const data = this.#host.random(16)
    const started = this.#host.now()
    const reply = this.#await(
      (r) => 'command' in r && r.command === 'testReply' && Buffer.from(r.data).equals(data),
      'TEST_REPLY',
    )
    this.send({ command: 'test', data })
    await reply
    return this.#host.now() - started
  }

  /** Makes the end an intro point for `authSeed`'s key: INTRODUCEs to it come out of this circuit. */
  async registerIntro(authSeed: Uint8Array): Promise<void> {
    const { backend } = this.#host
    const registered = this.#await(
      (r) => 'command' in r && r.command === 'introRegistered',
      'INTRO_REGISTERED',
    )
    this.send({
      command: 'introRegister',
      authKey: backend.ed25519PublicKey(authSeed),
      signature: signWithDomain(authSeed, DOMAIN.introRegister, this.hops.at(-1)!.keys.binding, backend),
    })
    await registered
  }

  /** Asks the end (an intro point) to pass `payload` into the circuit registered under `authKey`. */
  async introduce(authKey: Uint8Array, payload: Uint8Array): Promise<void> {
    if (payload.length > MAX_INTRODUCE_PAYLOAD)
      throw new OnionError(
        'TOO_LARGE',
        `payload of ${payload.length} bytes; at most ${MAX_INTRODUCE_PAYLOAD}`,
      )
    const ack = this.#await((r) => 'command' in r && r.command === 'introduceAck', 'INTRODUCE_ACK')
    this.send({ command: 'introduce', authKey, payload })
    const reply = (await ack) as Extract<RelayMessage, { command: 'introduceAck' }>
    if (reply.status !== IntroduceStatus.ok)
      throw new OnionError('INTRODUCE_FAILED', `the intro point refused (status ${reply.status})`)
  }

  /**
   * A mailbox request to the end (a holder): resolves with the items it sent
   * and its result. One at a time per circuit: items are not tagged by request.
   */
  async mailbox(
    request: Extract<RelayMessage, { command: 'mailboxDeposit' | 'mailboxFetch' | 'mailboxAck' }>,
  ): Promise<{ items: MailboxItem[]; result: MailboxResult }> {
    const items: MailboxItem[] = []
    const collect = (item: MailboxItem) => items.push(item)
    this.on('mailboxItem', collect)
    try {
      const reply = this.#await((r) => 'command' in r && r.command === 'mailboxResult', 'MAILBOX_RESULT')
      this.send(request)
      const { result } = (await reply) as Extract<RelayMessage, { command: 'mailboxResult' }>
      return { items, result }
    } finally {
      this.off('mailboxItem', collect)
    }
  }

  /** Seals one relay message to the end and wraps it in every hop's layer. */
  send(message: RelayMessage): void {
    if (this.closed || this.hops.length === 0)
      throw new OnionError('CIRCUIT_CLOSED', 'the circuit is closed or not built yet')
    const { backend } = this.#host
    const sequence = this.#forwardSequence++
    const last = this.hops.at(-1)!
    let body = sealEnd(backend, last.keys.endToEnd, 'forward', sequence, encodeRelayMessage(message))
    for (let i = this.hops.length - 1; i >= 0; i--)
      body = applyLayer(backend, this.hops[i]!.keys.forward, sequence, body)
    this.#host.sendCell(this.link, { command: 'relay', circuitId: this.id, sequence, body })
  }

  /** Tears the circuit down along its path. */
  destroy(reason: number = DestroyReason.finished): void {
    if (this.closed) return
    this.#host.sendCell(this.link, { command: 'destroy', circuitId: this.id, sequence: 0, reason })
    this.#close(reason)
  }

  /** A cell from the first hop (the router dispatches it here). */
  onCell(cell: Cell): void {
    if (cell.command === 'destroy') this.#close(cell.reason)
    else if (cell.command === 'created' && this.hops.length === 0) this.#settle(cell)
    else if (cell.command === 'relay' && this.hops.length > 0) this.#onRelay(cell.sequence, cell.body)
    else this.#host.counters.dropped.protocol++
  }

  /** The link to the first hop went down. */
  linkDown(): void {
    this.#close(DestroyReason.linkDown)
  }

  #onRelay(sequence: number, received: Uint8Array): void {
    const host = this.#host
    if (!this.#window.accepts(sequence)) {
      host.counters.dropped.replayed++
      return
    }
    let body = received
    for (const hop of this.hops) body = applyLayer(host.backend, hop.keys.backward, sequence, body)
    let message: RelayMessage
    try {
      message = decodeRelayMessage(
        openEnd(host.backend, this.hops.at(-1)!.keys.endToEnd, 'backward', sequence, body),
      )
    } catch {
      host.counters.dropped.tampered++
      this.destroy(DestroyReason.tampered)
      return
    }
    this.#window.record(sequence)
    if (message.command === 'introduced') this.emit('introduced', message.data)
    else if (message.command === 'mailboxItem') this.emit('mailboxItem', message.item)
    else this.#settle(message)
  }

  #addHop(target: RelayTarget, ephemeral: Uint8Array, y: Uint8Array, auth: Uint8Array): void {
    try {
      this.hops.push({ target, keys: builderFinish(this.#host.backend, ephemeral, target.nodeKey, y, auth) })
    } catch (error) {
      this.destroy(DestroyReason.protocol)
      throw error
    } finally {
      ephemeral.fill(0)
    }
  }

  #await(accepts: (reply: Reply) => boolean, what: string): Promise<Reply> {
    if (this.closed) return Promise.reject(new OnionError('CIRCUIT_CLOSED', 'the circuit is closed'))
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        accepts,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#waiters.delete(waiter)
          reject(new OnionError('TIMEOUT', `no ${what} within ${this.#host.config.replyTimeoutMs} ms`))
        }, this.#host.config.replyTimeoutMs),
      }
      this.#waiters.add(waiter)
    })
  }

  #settle(reply: Reply): void {
    for (const waiter of this.#waiters) {
      if (!waiter.accepts(reply)) continue
      clearTimeout(waiter.timer)
      this.#waiters.delete(waiter)
      waiter.resolve(reply)
      return
    }
    this.#host.counters.dropped.protocol++
  }

  #close(reason: number): void {
    if (this.closed) return
    this.closed = true
    this.#host.table.delete(this.link, this.id)
    for (const waiter of this.#waiters) {
      clearTimeout(waiter.timer)
      waiter.reject(new OnionError('CIRCUIT_CLOSED', `the circuit was destroyed (reason ${reason})`))
    }
    this.#waiters.clear()
    this.emit('closed', reason)
  }
}

import { DOMAIN } from '../crypto/domains.js'
import type { Identity } from '../crypto/identity.js'
import { verifyWithDomain } from '../crypto/sign.js'
import type { Link } from '../net/link.js'
import { ReplayWindow } from '../net/replay-window.js'
import type { Endpoint } from '../net/udp-node.js'
import { type Cell, DestroyReason } from '../wire/cell.js'
import { type MailboxResult, MailboxStatus } from '../wire/mailbox.js'
import {
  decodeRelayMessage,
  encodeRelayMessage,
  IntroduceStatus,
  type RelayMessage,
} from '../wire/relay-message.js'
import type { CircuitHost } from './host.js'
import { sequenceStart } from './host.js'
import { applyLayer, openEnd, sealEnd } from './layers.js'
import type { MailboxHandler } from './mailbox-holder.js'
import { type HopKeys, hopRespond } from './ntor.js'

type CellOf<C extends Cell['command']> = Extract<Cell, { command: C }>

interface Side {
  link: Link
  id: number
}

/**
 * One circuit as a relay keeps it: the two link-local ids, this hop's keys,
 * a replay window per direction, and the expiry. Nothing else — a relay
 * knows neither the circuit's builder nor its other hops.
 */
export interface RelayCircuit {
  prev: Side
  next: (Side & { established: boolean }) | undefined
  extending: boolean
  keys: HopKeys
  forwardWindow: ReplayWindow
  backwardWindow: ReplayWindow
  /** Next sequence number for a backward cell this hop originates (while it ends the circuit). */
  backwardSequence: number
  expiresAt: number
  /** Hex of the intro auth key registered on this circuit, if any. */
  introAuthKey: string | undefined
  closed: boolean
  replyTimer: NodeJS.Timeout | undefined
}

/** Extra view for tests: every byte string this relay handles in the clear after its own layer. */
export type RelayObserver = (bytes: Uint8Array) => void

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')

function sameKey(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i])
}

/**
 * The relay role (docs/protocol.md "Onion" → "Relays"): answers CREATE,
 * peels or adds its layer and forwards, extends circuits on EXTEND, and
 * serves as an intro point (joins a registered circuit and an introducing one)
 * and, with a mailbox holder, as a mailbox holder at the end of circuits.
 */
export class Relay {
  readonly #host: CircuitHost
  readonly #nodeKey: Identity
  readonly #circuits = new Set<RelayCircuit>()
  readonly #intros = new Map<string, RelayCircuit>()
  readonly #observe: RelayObserver | undefined
  readonly #mailbox: MailboxHandler | undefined

  constructor(host: CircuitHost, nodeKey: Identity, observe?: RelayObserver, mailbox?: MailboxHandler) {
    this.#host = host
    this.#nodeKey = nodeKey
    this.#observe = observe
    this.#mailbox = mailbox
  }

  get circuitCount(): number {
    return this.#circuits.size
  }

  get introCount(): number {
    return this.#intros.size
  }

  /** What this relay knows of each circuit it carries: its neighbours' endpoints and whether it is an intro point. */
  neighbours(): Array<{ prev: Endpoint; next: Endpoint | undefined; intro: boolean }> {
    return [...this.#circuits].map((c) => ({
      prev: { ...c.prev.link.endpoint },
      next: c.next ? { ...c.next.link.endpoint } : undefined,
      intro: c.introAuthKey !== undefined,
    }))
  }

  onCreate(link: Link, cell: CellOf<'create'>): void {
    const host = this.#host
    if (!sameKey(cell.nodeKey, this.#nodeKey.publicKey)) {
      this.#refuse(link, cell.circuitId, 'protocol', DestroyReason.protocol)
      return
    }
    if (this.#circuits.size >= host.config.maxRelayCircuits) {
      this.#refuse(link, cell.circuitId, 'limit', DestroyReason.limit)
      return
    }
    let reply: ReturnType<typeof hopRespond>
    try {
      reply = hopRespond(host.backend, this.#nodeKey, cell.ephemeral, host.random(32))
    } catch {
      this.#refuse(link, cell.circuitId, 'malformed', DestroyReason.protocol)
      return
    }
    const circuit: RelayCircuit = {
      prev: { link, id: cell.circuitId },
      next: undefined,
      extending: false,
      keys: reply.keys,
      forwardWindow: new ReplayWindow(host.config.replayWindow),
      backwardWindow: new ReplayWindow(host.config.replayWindow),
      backwardSequence: cell.sequence,
      // Builders replace circuits at circuitLifetimeMs; the slack covers clock and build time.
      expiresAt: host.now() + host.config.circuitLifetimeMs + host.config.replyTimeoutMs * 4,
      introAuthKey: undefined,
      closed: false,
      replyTimer: undefined,
    }
    this.#circuits.add(circuit)
    host.table.set(link, cell.circuitId, { kind: 'prev', circuit })
    host.counters.relayCircuitsCreated++
    host.sendCell(link, {
      command: 'created',
      circuitId: cell.circuitId,
      sequence: 0,
      ephemeral: reply.ephemeral,
      auth: reply.auth,
    })
  }

  /** A cell from the builder's side. */
  onFromPrev(circuit: RelayCircuit, cell: Cell): void {
    if (cell.command === 'destroy') {
      this.destroy(circuit, cell.reason, 'prev')
      return
    }
    if (cell.command !== 'relay') {
      this.#host.counters.dropped.protocol++
      return
    }
    const host = this.#host
    if (!circuit.forwardWindow.accepts(cell.sequence)) {
      host.counters.dropped.replayed++
      return
    }
    const body = applyLayer(host.backend, circuit.keys.forward, cell.sequence, cell.body)
    this.#observe?.(body)
    const next = circuit.next
    if (next) {
      if (!next.established) {
        host.counters.dropped.protocol++
        return
      }
      circuit.forwardWindow.record(cell.sequence)
      host.counters.cellsForwarded++
      host.sendCell(next.link, { command: 'relay', circuitId: next.id, sequence: cell.sequence, body })
      return
    }
    let plain: Uint8Array
    try {
      plain = openEnd(host.backend, circuit.keys.endToEnd, 'forward', cell.sequence, body)
    } catch {
      host.counters.dropped.tampered++
      this.destroy(circuit, DestroyReason.tampered)
      return
    }
    circuit.forwardWindow.record(cell.sequence)
    this.#observe?.(plain)
    let message: RelayMessage
    try {
      message = decodeRelayMessage(plain)
    } catch {
      host.counters.dropped.malformed++
      this.destroy(circuit, DestroyReason.protocol)
      return
    }
    this.#onMessage(circuit, message)
  }

  /** A cell from the far side (the next hop). */
  onFromNext(circuit: RelayCircuit, cell: Cell): void {
    const host = this.#host
    const next = circuit.next!
    switch (cell.command) {
      case 'destroy':
        this.destroy(circuit, cell.reason, 'next')
        return
      case 'created':
        if (next.established) break
        clearTimeout(circuit.replyTimer)
        next.established = true
        circuit.extending = false
        this.#sendBackward(circuit, { command: 'extended', ephemeral: cell.ephemeral, auth: cell.auth })
        return
      case 'relay': {
        if (!next.established) break
        if (!circuit.backwardWindow.accepts(cell.sequence)) {
          host.counters.dropped.replayed++
          return
        }
        circuit.backwardWindow.record(cell.sequence)
        const body = applyLayer(host.backend, circuit.keys.backward, cell.sequence, cell.body)
        host.counters.cellsForwarded++
        host.sendCell(circuit.prev.link, {
          command: 'relay',
          circuitId: circuit.prev.id,
          sequence: cell.sequence,
          body,
        })
        return
      }
    }
    host.counters.dropped.protocol++
  }

  /**
   * Tears a circuit down and tells the neighbours (except `from`, which told
   * us). Its ids, keys and intro registration go with it.
   */
  destroy(circuit: RelayCircuit, reason: number, from?: 'prev' | 'next'): void {
    if (circuit.closed) return
    circuit.closed = true
    clearTimeout(circuit.replyTimer)
    const host = this.#host
    this.#circuits.delete(circuit)
    host.counters.relayCircuitsDestroyed++
    if (circuit.introAuthKey && this.#intros.get(circuit.introAuthKey) === circuit)
      this.#intros.delete(circuit.introAuthKey)
    host.table.delete(circuit.prev.link, circuit.prev.id)
    if (from !== 'prev')
      host.sendCell(circuit.prev.link, {
        command: 'destroy',
        circuitId: circuit.prev.id,
        sequence: 0,
        reason,
      })
    const next = circuit.next
    if (next) {
      host.table.delete(next.link, next.id)
      if (from !== 'next')
        host.sendCell(next.link, { command: 'destroy', circuitId: next.id, sequence: 0, reason })
    }
    for (const key of Object.values(circuit.keys) as Uint8Array[]) key.fill(0)
  }

  /** Destroys circuits past their expiry. */
  expire(now: number): void {
    for (const circuit of [...this.#circuits])
      if (circuit.expiresAt <= now) this.destroy(circuit, DestroyReason.expired)
  }

  /** Every circuit using a link that went down: the other side is told. */
  linkDown(circuit: RelayCircuit, link: Link): void {
    this.destroy(circuit, DestroyReason.linkDown, circuit.prev.link === link ? 'prev' : 'next')
  }

  stop(): void {
    for (const circuit of [...this.#circuits]) this.destroy(circuit, DestroyReason.finished)
  }

  #refuse(link: Link, circuitId: number, drop: 'protocol' | 'limit' | 'malformed', reason: number): void {
    this.#host.counters.dropped[drop]++
    this.#host.sendCell(link, { command: 'destroy', circuitId, sequence: 0, reason })
  }

  #onMessage(circuit: RelayCircuit, message: RelayMessage): void {
    switch (message.command) {
      case 'extend':
        this.#extend(circuit, message)
        return
      case 'test':
        this.#sendBackward(circuit, { command: 'testReply', data: message.data })
        return
      case 'introRegister':
        this.#register(circuit, message.authKey, message.signature)
        return
      case 'introduce':
        this.#introduce(circuit, message.authKey, message.payload)
        return
      case 'mailboxDeposit':
      case 'mailboxFetch':
      case 'mailboxAck':
        this.#mailboxRequest(circuit, message)
        return
      default:
        // DATA and replies have no meaning at a relay: the builder is confused or hostile.
        this.#host.counters.dropped.protocol++
    }
  }

  #extend(circuit: RelayCircuit, message: Extract<RelayMessage, { command: 'extend' }>): void {
    const host = this.#host
    if (circuit.next || circuit.extending || sameKey(message.nodeKey, this.#nodeKey.publicKey)) {
      host.counters.dropped.protocol++
      this.destroy(circuit, DestroyReason.protocol)
      return
    }
    circuit.extending = true
    circuit.replyTimer = setTimeout(
      () => this.destroy(circuit, DestroyReason.extendFailed),
      host.config.replyTimeoutMs,
    )
    const target = { nodeKey: message.nodeKey, endpoint: { host: message.host, port: message.port } }
    host.connect(target).then(
      (link) => {
        if (circuit.closed) return
        try {
          const id = host.table.allocate(link, host.random)
          host.table.set(link, id, { kind: 'next', circuit })
          circuit.next = { link, id, established: false }
          host.sendCell(link, {
            command: 'create',
            circuitId: id,
            // The new end's backward numbers start past ours (one more for EXTENDED).
            sequence: sequenceStart(host.random, circuit.backwardSequence + 1),
            nodeKey: message.nodeKey,
            ephemeral: message.ephemeral,
          })
        } catch {
          // A sequence pushed to the top of its range by a hostile builder: no number is left.
          this.destroy(circuit, DestroyReason.protocol)
        }
      },
      () => this.destroy(circuit, DestroyReason.extendFailed),
    )
  }

  #register(circuit: RelayCircuit, authKey: Uint8Array, signature: Uint8Array): void {
    const host = this.#host
    const key = hex(authKey)
    if (!verifyWithDomain(authKey, DOMAIN.introRegister, circuit.keys.binding, signature, host.backend)) {
      host.counters.dropped.protocol++
      this.destroy(circuit, DestroyReason.protocol)
      return
    }
    const replaced = this.#intros.get(key)
    if (!replaced && this.#intros.size >= host.config.maxIntroRegistrations) {
      host.counters.dropped.limit++
      this.destroy(circuit, DestroyReason.limit)
      return
    }
    if (circuit.introAuthKey) this.#intros.delete(circuit.introAuthKey)
    circuit.introAuthKey = key
    this.#intros.set(key, circuit)
    this.#sendBackward(circuit, { command: 'introRegistered' })
  }

  #introduce(from: RelayCircuit, authKey: Uint8Array, payload: Uint8Array): void {
    const target = this.#intros.get(hex(authKey))
    if (!target || target === from) {
      this.#sendBackward(from, { command: 'introduceAck', status: IntroduceStatus.unknownIntro })
      return
    }
    this.#host.counters.introductions++
    this.#sendBackward(target, { command: 'introduced', data: payload })
    this.#sendBackward(from, { command: 'introduceAck', status: IntroduceStatus.ok })
  }

  /**
   * A mailbox request, answered on the same circuit once the holder is done
   * (FETCH: its items, then the result). The holder never learns who asks:
   * the circuit's builder is behind its other hops.
   */
  #mailboxRequest(
    circuit: RelayCircuit,
    message: Extract<RelayMessage, { command: 'mailboxDeposit' | 'mailboxFetch' | 'mailboxAck' }>,
  ): void {
    const holder = this.#mailbox
    const answer = (items: RelayMessage[], result: MailboxResult): void => {
      if (circuit.closed) return
      for (const item of items) this.#sendBackward(circuit, item)
      this.#sendBackward(circuit, { command: 'mailboxResult', result })
    }
    if (!holder) {
      answer([], { status: MailboxStatus.unknown, sent: 0, more: 0 })
      return
    }
    const binding = circuit.keys.binding.slice()
    const work =
      message.command === 'mailboxDeposit'
        ? holder.deposit(message.deposit).then((result) => ({ items: [], result }))
        : message.command === 'mailboxFetch'
          ? holder.fetch(message.fetch, binding)
          : holder.ack(message.ack, binding).then((result) => ({ items: [], result }))
    work.then(
      ({ items, result }) =>
        answer(
          items.map((item) => ({ command: 'mailboxItem', item })),
          result,
        ),
      () => answer([], { status: MailboxStatus.unavailable, sent: 0, more: 0 }),
    )
  }

  /** A message this hop originates as the circuit's end: sealed to the builder, then its own layer. */
  #sendBackward(circuit: RelayCircuit, message: RelayMessage): void {
    const { backend } = this.#host
    const sequence = circuit.backwardSequence++
    const sealed = sealEnd(backend, circuit.keys.endToEnd, 'backward', sequence, encodeRelayMessage(message))
    const body = applyLayer(backend, circuit.keys.backward, sequence, sealed)
    this.#host.sendCell(circuit.prev.link, {
      command: 'relay',
      circuitId: circuit.prev.id,
      sequence,
      body,
    })
  }
}

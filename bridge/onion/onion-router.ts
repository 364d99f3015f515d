import type { OnionConfig } from '../config/sections/onion.js'
import type { CryptoBackend } from '../crypto/backend.js'
import { defaultBackend } from '../crypto/default-backend.js'
import type { Identity } from '../crypto/identity.js'
import { relayId } from '../dht/relay-directory.js'
import type { Logger } from '../log.js'
import type { Link } from '../net/link.js'
import type { Links } from '../net/links.js'
import type { Clock, RandomBytes } from '../net/udp-node.js'
import { type Cell, decodeCell, encodeCell, isCell } from '../wire/cell.js'
import { CircuitTable } from './circuit-table.js'
import { newOnionCounters, type OnionCounters } from './counters.js'
import { CircuitBuildError, OnionError } from './errors.js'
import type { CircuitHost, RelayTarget, Slot } from './host.js'
import type { MailboxHandler } from './mailbox-holder.js'
import { OriginCircuit } from './origin-circuit.js'
import { Relay, type RelayObserver } from './relay.js'

export interface OnionRouterOptions {
  links: Links
  /** This node's key: relays prove it in every circuit handshake. */
  nodeKey: Identity
  config: OnionConfig
  clock: Clock
  random: RandomBytes
  log: Logger
  backend?: CryptoBackend
  /** Tests only: sees every byte string this node handles as a relay after removing its layer. */
  observeRelay?: RelayObserver
  /** Keeps mailbox items for others (docs/protocol.md "Mailboxes"); without it the relay answers `unknown`. */
  mailbox?: MailboxHandler
}

/**
 * The onion layer of one node: reads the cells arriving on its links and
 * hands each to the circuit its (link, id) names — a circuit it relays or one
 * it built — and builds circuits of its own.
 */
export class OnionRouter implements CircuitHost {
  readonly backend: CryptoBackend
  readonly config: OnionConfig
  readonly counters: OnionCounters = newOnionCounters()
  readonly table = new CircuitTable<Slot>()
  readonly random: RandomBytes
  readonly relay: Relay
  /** This node's relay id (hex node key): never a hop of its own circuits. */
  readonly nodeId: string
  readonly #links: Links
  readonly #clock: Clock
  readonly #log: Logger
  readonly #origins = new Set<OriginCircuit>()
  readonly #unsubscribe: Array<() => void> = []
  #timer: NodeJS.Timeout | undefined

  constructor(options: OnionRouterOptions) {
    this.backend = options.backend ?? defaultBackend
    this.config = options.config
    this.random = options.random
    this.#links = options.links
    this.#clock = options.clock
    this.#log = options.log.child({ c: 'onion' })
    this.relay = new Relay(this, options.nodeKey, options.observeRelay, options.mailbox)
    this.nodeId = relayId(options.nodeKey.publicKey)
  }

  start(): void {
    if (this.#timer) return
    this.#unsubscribe.push(this.#links.onMessage((payload, link) => this.handle(payload, link)))
    const onDown = (link: Link) => this.#linkDown(link)
    this.#links.on('down', onDown)
    this.#unsubscribe.push(() => this.#links.off('down', onDown))
    this.#timer = setInterval(() => this.relay.expire(this.now()), 1000)
    this.#timer.unref()
  }

  stop(): void {
    clearInterval(this.#timer)
    this.#timer = undefined
    for (const unsubscribe of this.#unsubscribe.splice(0)) unsubscribe()
    for (const circuit of [...this.#origins]) circuit.destroy()
    this.relay.stop()
  }

  now(): number {
    return this.#clock.now()
  }

  connect(target: RelayTarget): Promise<Link> {
    return this.#links.connect(target.nodeKey, target.endpoint)
  }

  sendCell(link: Link, cell: Cell): void {
    if (link.state !== 'up') return
    this.counters.cellsOut++
    link.send(encodeCell(cell))
  }

  /** Builds a circuit through `path` (first hop first): CREATE to the first, EXTEND for each further one. */
  async buildCircuit(path: RelayTarget[]): Promise<OriginCircuit> {
    if (path.length === 0) throw new OnionError('NO_PATH', 'a circuit needs at least one hop')
    let link: Link
    try {
      link = await this.#withTimeout(this.connect(path[0]!), 'a link to the first hop')
    } catch (error) {
      throw new CircuitBuildError(0, error)
    }
    const id = this.table.allocate(link, this.random)
    const circuit = new OriginCircuit(this, link, id)
    this.table.set(link, id, { kind: 'origin', circuit })
    this.#origins.add(circuit)
    circuit.once('closed', () => this.#origins.delete(circuit))
    try {
      await circuit.create(path[0]!)
      for (const target of path.slice(1)) await circuit.extend(target)
    } catch (error) {
      circuit.destroy()
      throw new CircuitBuildError(circuit.hops.length, error)
    }
    return circuit
  }

  #withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
    const ms = this.config.replyTimeoutMs
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new OnionError('TIMEOUT', `no ${what} within ${ms} ms`)), ms)
    })
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
  }

  /** Entry point for every link payload (exposed for fuzzing). */
  handle(payload: Uint8Array, link: Link): void {
    if (!isCell(payload)) return // another layer's message on a shared link
    this.counters.cellsIn++
    let cell: Cell
    try {
      cell = decodeCell(payload)
    } catch {
      this.counters.dropped.malformed++
      return
    }
    const slot = this.table.get(link, cell.circuitId)
    if (!slot) {
      if (cell.command === 'create') this.relay.onCreate(link, cell)
      else this.counters.dropped.unknownCircuit++
      return
    }
    try {
      if (slot.kind === 'origin') slot.circuit.onCell(cell)
      else if (slot.kind === 'prev') this.relay.onFromPrev(slot.circuit, cell)
      else this.relay.onFromNext(slot.circuit, cell)
    } catch (error) {
      // A bug must cost one cell, never the process.
      this.counters.dropped.protocol++
      this.#log.warn({ err: error }, 'cell handler failed')
    }
  }

  #linkDown(link: Link): void {
    for (const slot of this.table.takeLink(link)) {
      if (slot.kind === 'origin') slot.circuit.linkDown()
      else this.relay.linkDown(slot.circuit, link)
    }
  }
}

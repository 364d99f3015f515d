import type { OnionConfig } from '../config/sections/onion.js'
import type { RelayDirectory } from '../dht/relay-directory.js'
import type { Logger } from '../log.js'
import type { IntroPointInfo, RendezvousRecord } from '../wire/rendezvous.js'
import { CircuitBuildError, OnionError } from './errors.js'
import type { RelayTarget } from './host.js'
import type { OnionRouter } from './onion-router.js'
import type { OriginCircuit } from './origin-circuit.js'
import { selectPath, targetId } from './path.js'

export interface IntroducerOptions {
  router: OnionRouter
  directory: RelayDirectory
  config: OnionConfig
  log: Logger
  /** Relays of this node's own inbound tunnels: outbound paths avoid them. */
  avoid: () => Iterable<string>
}

/**
 * The sending side: reaches a receiver's intro point through an outbound
 * path of `outboundHops` relays of our own and asks it to INTRODUCE a sealed
 * payload. Circuits are kept per intro point until they fail or expire; a
 * failed intro point makes it try the next.
 */
export class Introducer {
  readonly #options: IntroducerOptions
  readonly #circuits = new Map<string, OriginCircuit>()
  readonly #timer: NodeJS.Timeout
  #stopped = false

  constructor(options: IntroducerOptions) {
    this.#options = options
    this.#timer = setInterval(() => void this.testCircuits(), options.config.testIntervalMs)
    this.#timer.unref()
  }

  /** Outbound circuits kept (one per intro point recently used). */
  get circuitCount(): number {
    return this.#circuits.size
  }

  /** Tunnel tests of the kept circuits: a circuit that fails is scored against its relays and dropped. */
  async testCircuits(): Promise<void> {
    await Promise.all(
      [...this.#circuits.values()].map((circuit) =>
        circuit.test().then(
          () => {
            for (const hop of circuit.hops)
              this.#options.directory.report(targetId(hop.target), this.#options.config.successReward)
          },
          () => this.#failed(circuit),
        ),
      ),
    )
  }

  /** Hands `payload` to one of the record's intro points; resolves with the one that accepted it. */
  async send(record: RendezvousRecord, payload: Uint8Array): Promise<IntroPointInfo> {
    const { router } = this.#options
    if (this.#stopped) throw new OnionError('INTRODUCE_FAILED', 'the onion service is stopped')
    if (record.validUntil <= router.now()) throw new OnionError('INTRODUCE_FAILED', 'the record has expired')
    const errors: string[] = []
    for (const intro of this.#shuffled(record.introPoints)) {
      let circuit: OriginCircuit | undefined
      try {
        circuit = await this.#circuitTo(intro)
        await circuit.introduce(intro.authKey, payload)
        return intro
      } catch (error) {
        errors.push((error as Error).message)
        if (circuit && error instanceof OnionError && error.code === 'TIMEOUT') this.#failed(circuit)
      }
    }
    throw new OnionError('INTRODUCE_FAILED', `no intro point accepted the payload: ${errors.join('; ')}`)
  }

  /** The relays (first hop first, intro point last) of the circuit kept to an intro point, if any. */
  pathTo(intro: { nodeKey: Uint8Array }): string[] | undefined {
    return this.#circuits.get(targetId(intro))?.hops.map((hop) => targetId(hop.target))
  }

  stop(): void {
    this.#stopped = true
    clearInterval(this.#timer)
    for (const circuit of this.#circuits.values()) circuit.destroy()
    this.#circuits.clear()
  }

  async #circuitTo(intro: IntroPointInfo): Promise<OriginCircuit> {
    const { router, directory, config } = this.#options
    const key = targetId(intro)
    const cached = this.#circuits.get(key)
    if (cached && !cached.closed && router.now() < cached.createdAt + config.circuitLifetimeMs) return cached
    cached?.destroy()
    this.#circuits.delete(key)
    const end: RelayTarget = { nodeKey: intro.nodeKey, endpoint: { host: intro.host, port: intro.port } }
    const path = [
      ...selectPath(directory, config.outboundHops, {
        exclude: [router.nodeId, key],
        avoid: this.#options.avoid(),
        now: router.now(),
      }),
      end,
    ]
    let circuit: OriginCircuit
    try {
      circuit = await router.buildCircuit(path)
    } catch (error) {
      if (error instanceof CircuitBuildError)
        directory.report(targetId(path[error.failedHop]!), -config.failurePenalty)
      throw error
    }
    // Built while stopping: nothing may keep it (or its timers) alive.
    if (this.#stopped) {
      circuit.destroy()
      throw new OnionError('INTRODUCE_FAILED', 'the onion service is stopped')
    }
    circuit.once('closed', () => {
      if (this.#circuits.get(key) === circuit) this.#circuits.delete(key)
    })
    this.#circuits.set(key, circuit)
    return circuit
  }

  /** No answer through this circuit: some relay on it drops cells. All are scored down; it is not used again. */
  #failed(circuit: OriginCircuit): void {
    if (circuit.closed) return
    for (const hop of circuit.hops)
      this.#options.directory.report(targetId(hop.target), -this.#options.config.failurePenalty)
    circuit.destroy()
  }

  /** Random order, so load spreads over the intro points and a dead first one is not always tried first. */
  #shuffled(intros: IntroPointInfo[]): IntroPointInfo[] {
    const out = [...intros]
    const bytes = this.#options.router.random(out.length)
    for (let i = out.length - 1; i > 0; i--) {
      const j = bytes[i]! % (i + 1)
      ;[out[i], out[j]] = [out[j]!, out[i]!]
    }
    return out
  }
}

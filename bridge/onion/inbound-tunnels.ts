import { EventEmitter } from 'node:events'
import type { OnionConfig } from '../config/sections/onion.js'
import type { RelayDirectory } from '../dht/relay-directory.js'
import type { Logger } from '../log.js'
import { DestroyReason } from '../wire/cell.js'
import { type IntroPointInfo, MAX_INTRO_POINTS } from '../wire/rendezvous.js'
import { CircuitBuildError } from './errors.js'
import type { OnionRouter } from './onion-router.js'
import type { OriginCircuit } from './origin-circuit.js'
import { selectPath, targetId } from './path.js'

export interface InboundTunnelsOptions {
  router: OnionRouter
  directory: RelayDirectory
  config: OnionConfig
  log: Logger
}

export interface InboundTunnelsEvents {
  /** A payload introduced through one of the intro points. */
  message: [payload: Uint8Array]
  /** The intro points changed: the rendezvous record must be republished. */
  changed: [introPoints: IntroPointInfo[]]
}

interface Tunnel {
  circuit: OriginCircuit
  intro: IntroPointInfo
  relayIds: string[]
  builtAt: number
  lastTestAt: number
}

const sameIntros = (a: IntroPointInfo[], b: IntroPointInfo[]) =>
  a.length === b.length && a.every((x, i) => Buffer.from(x.authKey).equals(b[i]!.authKey))

/**
 * One identity's inbound tunnels (issue 5): `inboundTunnels` circuits of
 * `inboundHops` hops, each ending at a distinct intro point where it is
 * registered under its own auth key. `maintain()` (on a timer) tests them,
 * replaces failed ones and those near expiry, scores relays, and announces
 * every change of intro points.
 */
export class InboundTunnels extends EventEmitter<InboundTunnelsEvents> {
  readonly #router: OnionRouter
  readonly #directory: RelayDirectory
  readonly #config: OnionConfig
  readonly #log: Logger
  readonly #tunnels = new Set<Tunnel>()
  #published: IntroPointInfo[] = []
  #running: Promise<void> | undefined
  #timer: NodeJS.Timeout | undefined
  #stopped = false

  constructor(options: InboundTunnelsOptions) {
    super()
    this.#router = options.router
    this.#directory = options.directory
    this.#config = options.config
    this.#log = options.log.child({ c: 'inbound' })
  }

  /** Builds the tunnels (resolves once a first round is done) and keeps them up. */
  async start(): Promise<void> {
    await this.maintain()
    const every = Math.max(100, Math.min(1000, this.#config.testIntervalMs / 2))
    this.#timer = setInterval(() => void this.maintain(), every)
    this.#timer.unref()
  }

  stop(): void {
    this.#stopped = true
    clearInterval(this.#timer)
    this.#timer = undefined
    const tunnels = [...this.#tunnels]
    this.#tunnels.clear() // first, so their 'closed' events do not ask for replacements
    for (const tunnel of tunnels) tunnel.circuit.destroy()
  }

  /** The intro points of the live tunnels, newest first (what the rendezvous record lists). */
  introPoints(): IntroPointInfo[] {
    return [...this.#tunnels]
      .sort((a, b) => b.builtAt - a.builtAt)
      .slice(0, MAX_INTRO_POINTS)
      .map((t) => t.intro)
  }

  /** The relays (first hop first, intro point last) of the tunnel registered under `authKey`. */
  pathOf(authKey: Uint8Array): string[] | undefined {
    return [...this.#tunnels].find((t) => Buffer.from(t.intro.authKey).equals(authKey))?.relayIds
  }

  /** Every relay of these tunnels: outbound paths avoid them (TX and RX never share a relay). */
  relayIds(): Set<string> {
    return new Set([...this.#tunnels].flatMap((t) => t.relayIds))
  }

  /** When the oldest listed tunnel expires: a record should not promise longer. */
  validUntil(): number {
    const ends = [...this.#tunnels].map((t) => t.builtAt + this.#config.circuitLifetimeMs)
    return ends.length === 0 ? this.#router.now() : Math.min(...ends)
  }

  /** One maintenance round (never two at once). */
  maintain(): Promise<void> {
    if (this.#stopped) return Promise.resolve()
    this.#running ??= this.#round().finally(() => {
      this.#running = undefined
    })
    return this.#running
  }

  async #round(): Promise<void> {
    const now = this.#router.now()
    const { circuitLifetimeMs, rebuildAheadMs, testIntervalMs, inboundTunnels } = this.#config
    for (const tunnel of [...this.#tunnels]) {
      if (tunnel.circuit.closed || now >= tunnel.builtAt + circuitLifetimeMs) this.#drop(tunnel)
    }
    await Promise.all(
      [...this.#tunnels].filter((t) => now - t.lastTestAt >= testIntervalMs).map((t) => this.#test(t, now)),
    )
    const fresh = () =>
      [...this.#tunnels].filter((t) => this.#router.now() < t.builtAt + circuitLifetimeMs - rebuildAheadMs)
    for (
      let attempts = inboundTunnels * 3;
      !this.#stopped && fresh().length < inboundTunnels && attempts > 0;
      attempts--
    ) {
      await this.#build()
    }
    this.#announce()
  }

  async #test(tunnel: Tunnel, now: number): Promise<void> {
    tunnel.lastTestAt = now
    try {
      await tunnel.circuit.test()
      for (const id of tunnel.relayIds) this.#directory.report(id, this.#config.successReward)
    } catch (error) {
      this.#log.debug({ err: error }, 'inbound tunnel failed its test')
      for (const id of tunnel.relayIds) this.#directory.report(id, -this.#config.failurePenalty)
      this.#drop(tunnel)
    }
  }

  async #build(): Promise<void> {
    const now = this.#router.now()
    const live = [...this.#tunnels].filter((t) => !t.circuit.closed)
    const intros = live.map((t) => targetId(t.intro))
    const self = this.#router.nodeId
    let path: ReturnType<typeof selectPath>
    try {
      // Intro points are distinct; no relay serves two tunnels unless the directory is too small.
      const others = live.flatMap((t) => t.relayIds)
      const [intro] = selectPath(this.#directory, 1, { exclude: [self, ...intros], avoid: others, now })
      const middles = selectPath(this.#directory, this.#config.inboundHops - 1, {
        exclude: [self, ...intros, targetId(intro!)],
        avoid: others,
        now,
      })
      path = [...middles, intro!]
    } catch (error) {
      this.#log.debug({ err: error }, 'no path for an inbound tunnel')
      return
    }
    const authSeed = this.#router.random(32)
    let circuit: OriginCircuit
    try {
      circuit = await this.#router.buildCircuit(path)
    } catch (error) {
      if (error instanceof CircuitBuildError)
        this.#directory.report(targetId(path[error.failedHop]!), -this.#config.failurePenalty)
      return
    }
    try {
      await circuit.registerIntro(authSeed)
    } catch {
      this.#directory.report(targetId(path.at(-1)!), -this.#config.failurePenalty)
      circuit.destroy(DestroyReason.protocol)
      return
    }
    const end = path.at(-1)!
    const tunnel: Tunnel = {
      circuit,
      intro: {
        nodeKey: end.nodeKey,
        host: end.endpoint.host,
        port: end.endpoint.port,
        authKey: this.#router.backend.ed25519PublicKey(authSeed),
      },
      relayIds: path.map(targetId),
      builtAt: this.#router.now(),
      lastTestAt: this.#router.now(),
    }
    authSeed.fill(0)
    if (this.#stopped) {
      circuit.destroy()
      return
    }
    circuit.on('introduced', (payload) => this.emit('message', payload))
    // A tunnel destroyed under us (hop gone, link down) is replaced at once.
    circuit.once('closed', () => {
      if (this.#tunnels.has(tunnel)) {
        this.#drop(tunnel)
        void this.maintain()
      }
    })
    this.#tunnels.add(tunnel)
  }

  #drop(tunnel: Tunnel): void {
    this.#tunnels.delete(tunnel)
    tunnel.circuit.destroy(DestroyReason.expired)
  }

  #announce(): void {
    const intros = this.introPoints()
    if (sameIntros(intros, this.#published)) return
    this.#published = intros
    this.emit('changed', intros)
  }
}

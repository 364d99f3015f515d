import type { OnionConfig } from '../config/sections/onion.js'
import type { RelayDirectory, RelayEntry } from '../dht/relay-directory.js'
import type { MailboxItem, MailboxResult } from '../wire/mailbox.js'
import type { RelayMessage } from '../wire/relay-message.js'
import { CircuitBuildError, OnionError } from './errors.js'
import type { OnionRouter } from './onion-router.js'
import type { OriginCircuit } from './origin-circuit.js'
import { selectPath, targetId, targetOf } from './path.js'

export type MailboxRequest = Extract<
  RelayMessage,
  { command: 'mailboxDeposit' | 'mailboxFetch' | 'mailboxAck' }
>

export interface HolderCircuitsOptions {
  router: OnionRouter
  directory: RelayDirectory
  onion: OnionConfig
}

/** Paths tried for one circuit when middle hops fail. */
const BUILD_ATTEMPTS = 4
/**
 * A holder that did not answer a circuit build is not tried again for this
 * long: a recipient asks the same holders for every period's mailbox, and a
 * departed one would cost a timeout each time.
 */
const HOLDER_RETRY_MS = 60_000

const stoppedError = () => new OnionError('CIRCUIT_CLOSED', 'the mailbox circuits are stopped')

/** A circuit kept to one holder, and the last request queued on it. */
interface Kept {
  circuit: OriginCircuit | undefined
  tail: Promise<unknown>
  /** Until when the holder counts as gone (its last circuit build failed at it). */
  downUntil: number
}

/**
 * Outbound circuits whose last hop is a mailbox holder, one kept per holder
 * for its lifetime, requests on it one at a time (a circuit's answers are not
 * tagged by request). Shared by the mailbox client (senders, recipients) and
 * the handoff (holders passing items on): neither holder learns who asks.
 */
export class HolderCircuits {
  readonly #options: HolderCircuitsOptions
  readonly #kept = new Map<string, Kept>()
  #stopped = false

  constructor(options: HolderCircuitsOptions) {
    this.#options = options
  }

  /**
   * One request to `holder` on our kept circuit to it (built on first use),
   * after the requests before it. `request` may depend on the circuit's
   * binding (signatures authorizing FETCH and ACK name the circuit).
   */
  request(
    holder: RelayEntry,
    request: MailboxRequest | ((binding: Uint8Array) => MailboxRequest),
  ): Promise<{ items: MailboxItem[]; result: MailboxResult }> {
    if (this.#stopped) return Promise.reject(stoppedError())
    const kept = this.#keptFor(holder)
    const once = async () => {
      // Queued behind a request that was under way at stop(): fail now, build nothing.
      if (this.#stopped) throw stoppedError()
      const circuit = await this.#circuitTo(holder, kept)
      const binding = circuit.hops.at(-1)!.keys.binding
      return circuit.mailbox(typeof request === 'function' ? request(binding) : request)
    }
    // A kept circuit may have lost a hop since its last use: one more try on a new one.
    // Every mailbox request may be repeated (a deposit kept, a fetch or an ack, changes nothing twice).
    const run = kept.tail.then(async () => {
      if (!this.#usable(kept.circuit)) return once()
      try {
        return await once()
      } catch {
        kept.circuit?.destroy()
        kept.circuit = undefined
        return once()
      }
    })
    kept.tail = run.catch(() => undefined)
    return run
  }

  get stopped(): boolean {
    return this.#stopped
  }

  /** Destroys the kept circuits; a later request builds a new one. */
  release(): void {
    for (const { circuit } of this.#kept.values()) circuit?.destroy()
    this.#kept.clear()
  }

  /** Destroys the kept circuits for good; requests under way or queued fail at once (none builds a new circuit). */
  stop(): void {
    this.#stopped = true
    this.release()
  }

  #usable(circuit: OriginCircuit | undefined): boolean {
    const { router, onion } = this.#options
    return !!circuit && !circuit.closed && router.now() < circuit.createdAt + onion.circuitLifetimeMs
  }

  #keptFor(holder: RelayEntry): Kept {
    let kept = this.#kept.get(holder.id)
    if (!kept) {
      kept = { circuit: undefined, tail: Promise.resolve(), downUntil: 0 }
      this.#kept.set(holder.id, kept)
    }
    return kept
  }

  /**
   * The kept circuit, or a new one. A middle hop that fails the build is
   * reported to the directory and left out of the next attempt (a churning
   * network lists departed relays until they go stale); a holder that fails
   * it ends the attempts.
   */
  async #circuitTo(holder: RelayEntry, kept: Kept): Promise<OriginCircuit> {
    const { router, directory, onion } = this.#options
    if (kept.circuit && this.#usable(kept.circuit)) return kept.circuit
    kept.circuit?.destroy()
    kept.circuit = undefined
    if (router.now() < kept.downUntil)
      throw new OnionError('TIMEOUT', `holder ${holder.id.slice(0, 16)} did not answer a moment ago`)
    const failed: string[] = []
    for (let attempt = 1; ; attempt++) {
      const path = [
        ...selectPath(directory, onion.outboundHops, {
          exclude: [router.nodeId, holder.id, ...failed],
          now: router.now(),
        }),
        targetOf(holder),
      ]
      try {
        kept.circuit = await router.buildCircuit(path)
        return kept.circuit
      } catch (error) {
        if (!(error instanceof CircuitBuildError)) throw error
        if (error.failedHop >= onion.outboundHops) {
          kept.downUntil = router.now() + HOLDER_RETRY_MS
          throw error
        }
        const hop = targetId(path[error.failedHop]!)
        directory.report(hop, -onion.failurePenalty)
        failed.push(hop)
        if (attempt === BUILD_ATTEMPTS) throw error
      }
    }
  }
}

import type { OnionConfig } from '../config/sections/onion.js'
import type { RelayDirectory, RelayEntry } from '../dht/relay-directory.js'
import type { MailboxItem, MailboxResult } from '../wire/mailbox.js'
import type { RelayMessage } from '../wire/relay-message.js'
import type { OnionRouter } from './onion-router.js'
import type { OriginCircuit } from './origin-circuit.js'
import { selectPath, targetOf } from './path.js'

export type MailboxRequest = Extract<
  RelayMessage,
  { command: 'mailboxDeposit' | 'mailboxFetch' | 'mailboxAck' }
>

export interface HolderCircuitsOptions {
  router: OnionRouter
  directory: RelayDirectory
  onion: OnionConfig
}

/** A circuit kept to one holder, and the last request queued on it. */
interface Kept {
  circuit: OriginCircuit | undefined
  tail: Promise<unknown>
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
    const kept = this.#keptFor(holder)
    const run = kept.tail.then(async () => {
      const circuit = await this.#circuitTo(holder, kept)
      const binding = circuit.hops.at(-1)!.keys.binding
      return circuit.mailbox(typeof request === 'function' ? request(binding) : request)
    })
    kept.tail = run.catch(() => undefined)
    return run
  }

  stop(): void {
    for (const { circuit } of this.#kept.values()) circuit?.destroy()
    this.#kept.clear()
  }

  #keptFor(holder: RelayEntry): Kept {
    let kept = this.#kept.get(holder.id)
    if (!kept) {
      kept = { circuit: undefined, tail: Promise.resolve() }
      this.#kept.set(holder.id, kept)
    }
    return kept
  }

  async #circuitTo(holder: RelayEntry, kept: Kept): Promise<OriginCircuit> {
    const { router, directory, onion } = this.#options
    const circuit = kept.circuit
    if (circuit && !circuit.closed && router.now() < circuit.createdAt + onion.circuitLifetimeMs)
      return circuit
    circuit?.destroy()
    const path = [
      ...selectPath(directory, onion.outboundHops, {
        exclude: [router.nodeId, holder.id],
        now: router.now(),
      }),
      targetOf(holder),
    ]
    kept.circuit = await router.buildCircuit(path)
    return kept.circuit
  }
}

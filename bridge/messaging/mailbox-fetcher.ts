import type { Identity } from '../crypto/identity.js'
import type { Logger } from '../log.js'
import type { MailboxPort } from './mailbox-port.js'
import { hex } from './tables.js'

/** What Messenger.receive made of an envelope: whether a mailbox may forget it. */
export type ReceiveOutcome =
  /** A reliable message, durably stored (and acknowledged end to end). */
  | 'stored'
  /** Stored or delivered before. */
  | 'duplicate'
  /** One chunk of a message still incomplete: held in memory only. */
  | 'partial'
  /** An acknowledgement or an ephemeral frame: nothing to store. */
  | 'handled'
  /** Can never be stored: not for this identity, malformed, inconsistent. */
  | 'junk'
  /** Not now (full, stopped, a local failure): may succeed at a later fetch. */
  | 'refused'

/**
 * Holders may delete these: the message is safe on disk (or was before), or
 * the item can never become one. Junk is acknowledged too, so a hostile
 * depositor cannot fill the mailbox with items that come back at every fetch;
 * it is junk only when opening failed for good (see Messenger.receive).
 */
const FORGETTABLE: ReadonlySet<ReceiveOutcome> = new Set(['stored', 'duplicate', 'handled', 'junk'])

/** Passes over one fetch's items, at most (each re-reads only what the ones before left). */
const MAX_PASSES = 8

export interface FetchReport {
  fetched: number
  /** Items the holders were told to delete. */
  acked: number
  /** Items left with the holders (refused now, or a chunk whose message stayed incomplete). */
  kept: number
}

export interface MailboxFetcherDeps {
  port: MailboxPort
  /** Messenger.receive for a mailbox item. */
  receive(to: Uint8Array, envelope: Uint8Array): Promise<ReceiveOutcome>
  /** After a round's items were handled and the holders acknowledged: tell the senders. */
  roundDone(identity: Identity): Promise<void>
  /** Between two fetches of one identity, ±10 %. */
  intervalMs: number
  log: Logger
  /** A uniform number in [0, 1). */
  uniform: () => number
}

interface Fetching {
  identity: Identity
  timer: NodeJS.Timeout | undefined
  round: Promise<FetchReport> | undefined
}

/**
 * The recipient's side of offline delivery: fetches each unlocked identity's
 * mailboxes on a timer (and when asked, e.g. once it is reachable), passes
 * every item through the normal receive path and acknowledges to the holders
 * only what that path stored durably, had seen, or can never use.
 */
export class MailboxFetcher {
  private readonly fetching = new Map<string, Fetching>()
  private stopped = false

  constructor(private readonly deps: MailboxFetcherDeps) {}

  add(identity: Identity): void {
    const key = hex(identity.publicKey)
    if (this.stopped || this.fetching.has(key)) return
    const entry: Fetching = { identity, timer: undefined, round: undefined }
    this.fetching.set(key, entry)
    this.schedule(entry)
  }

  remove(address: Uint8Array): void {
    const key = hex(address)
    clearTimeout(this.fetching.get(key)?.timer)
    this.fetching.delete(key)
  }

  /** One fetch round now (joins the one under way); undefined for an identity not added. */
  fetchNow(address: Uint8Array): Promise<FetchReport> | undefined {
    const entry = this.fetching.get(hex(address))
    if (!entry || this.stopped) return undefined
    entry.round ??= this.round(entry.identity).finally(() => {
      entry.round = undefined
    })
    return entry.round
  }

  stop(): void {
    this.stopped = true
    for (const entry of this.fetching.values()) clearTimeout(entry.timer)
    this.fetching.clear()
  }

  private schedule(entry: Fetching): void {
    const { intervalMs, uniform, log } = this.deps
    const delay = intervalMs * (0.9 + 0.2 * uniform())
    entry.timer = setTimeout(() => {
      this.fetchNow(entry.identity.publicKey)
        ?.catch((err: unknown) => log.debug({ err }, 'mailbox fetch failed'))
        .finally(() => {
          if (this.fetching.get(hex(entry.identity.publicKey)) === entry) this.schedule(entry)
        })
    }, delay)
    entry.timer.unref()
  }

  private async round(identity: Identity): Promise<FetchReport> {
    const { port, receive, log } = this.deps
    const items = await port.fetch(identity)
    const forget: Uint8Array[] = []
    // Passes over what is left while they make progress: a chunk read before the rest of its
    // message is a duplicate once the message is stored, and a full reassembly has room again.
    let left = [...items]
    for (let pass = 0; pass < MAX_PASSES && left.length > 0 && !this.stopped; pass++) {
      const kept: typeof left = []
      for (const item of left) {
        if (FORGETTABLE.has(await receive(identity.publicKey, item.item))) forget.push(item.id)
        else kept.push(item)
      }
      if (kept.length === left.length) break
      left = kept
    }
    if (forget.length > 0 && !this.stopped) await port.ack(identity, forget)
    await this.deps.roundDone(identity)
    const report = { fetched: items.length, acked: forget.length, kept: items.length - forget.length }
    if (items.length > 0) log.info(report, 'mailbox fetched')
    return report
  }
}

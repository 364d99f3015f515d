import type { MailboxConfig } from '../config/sections/mailbox.js'
import type { OnionConfig } from '../config/sections/onion.js'
import type { CryptoBackend } from '../crypto/backend.js'
import { type BlindedSigner, blindedSigner, MAILBOX_BLINDING } from '../crypto/blind.js'
import { defaultBackend } from '../crypto/default-backend.js'
import { DOMAIN } from '../crypto/domains.js'
import type { Identity } from '../crypto/identity.js'
import { signedBytes } from '../crypto/sign.js'
import { mintStamp, type StampSubject } from '../crypto/stamp.js'
import { periodAt } from '../dht/period.js'
import type { RelayDirectory, RelayEntry } from '../dht/relay-directory.js'
import type { Logger } from '../log.js'
import {
  ackSignedBytes,
  MAILBOX_STATUS_NAMES,
  MAX_ACK_IDS,
  type MailboxItem,
  type MailboxResult,
  MailboxStatus,
  type MailboxStatusName,
  mailboxItemId,
} from '../wire/mailbox.js'
import { OnionError } from './errors.js'
import { HolderCircuits, type MailboxRequest } from './holder-circuits.js'
import { mailboxAddress, mailboxHolders, mailboxIdOf, mailboxPeriods } from './mailbox-address.js'
import type { MailboxHandler } from './mailbox-holder.js'
import type { OnionRouter } from './onion-router.js'

export interface MailboxClientOptions {
  router: OnionRouter
  directory: RelayDirectory
  onion: OnionConfig
  config: MailboxConfig
  log: Logger
  backend?: CryptoBackend
  /** Mints a deposit's stamp; default mintStamp on this thread (the bridge passes a StampPool's). */
  mint?: (subject: StampSubject, difficulty: number) => Promise<Uint8Array>
  /**
   * This node's own holder, when it holds mailboxes: senders whose directories
   * list us may have left our identities' items with it, and our directory
   * never lists ourselves, so fetch and ack ask it directly too.
   */
  local?: MailboxHandler
}

/** The holder a request goes to: a relay through a circuit, or this node's own holder. */
type Holder = RelayEntry | typeof SELF
const SELF = 'self'

/** What one holder answered (or `failed`: no circuit, no answer). */
export interface HolderOutcome {
  holder: string
  status: MailboxStatusName | 'failed'
}

export interface FetchedItem {
  id: Uint8Array
  item: Uint8Array
  /** Unix seconds. */
  expiry: number
  period: number
}

/** What a fetch asks (MailboxClient.fetch). */
export interface FetchOptions {
  /** The periods whose mailboxes to ask; default every period an item may still live in. */
  periods?: number[]
  /**
   * Holders asked per period, closest to the mailbox id first, each one that
   * fails replaced by the next; default all k + 2 (and our own holder always).
   */
  holders?: number
  /**
   * A FETCH cursor per holder and mailbox (docs/protocol.md "Mailboxes" →
   * "Cursors"), for mailboxes whose items are never acked: `resume` gets only
   * what each holder stored since this client's previous fetch from it,
   * `restart` everything; both remember where each holder stands. None: no
   * cursor on the wire (a one-to-one mailbox, whose items are acked).
   */
  cursor?: 'resume' | 'restart'
}

/**
 * Holders beyond k a recipient asks (fetch and ack): its directory may differ
 * a little from the sender's — it never lists its own node, for one.
 */
const SPARE_HOLDERS = 2
/** Fetch rounds repeated at one holder when cells of an answer went missing. */
const FETCH_RETRIES = 3

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')
const idOf = (holder: Holder): string => (holder === SELF ? SELF : holder.id)
const statusName = (result: MailboxResult): MailboxStatusName => MAILBOX_STATUS_NAMES.get(result.status)!

/**
 * The sender's and the recipient's side of mailboxes (docs/protocol.md
 * "Mailboxes"): every request goes through an outbound path of our own whose
 * last hop is the holder, so no holder learns who deposits or who fetches.
 * Circuits are kept per holder (holder-circuits.ts).
 */
export class MailboxClient {
  readonly #options: MailboxClientOptions
  readonly #backend: CryptoBackend
  readonly #circuits: HolderCircuits
  /** id → period of every item fetched and not yet acked, so ack() knows whom to tell. */
  readonly #fetched = new Map<string, number>()
  /** `holder.mailbox id` → the holder's `next` and the mailbox's period (to forget it with the period). */
  readonly #cursors = new Map<string, { next: number; period: number }>()

  constructor(options: MailboxClientOptions) {
    this.#options = options
    this.#backend = options.backend ?? defaultBackend
    this.#circuits = new HolderCircuits(options)
  }

  /**
   * Deposits `item` (a sealed envelope) for `recipient` with the holders of
   * its mailbox for the current period; one stamp serves them all.
   */
  async deposit(recipient: Uint8Array, item: Uint8Array): Promise<HolderOutcome[]> {
    const { router, config } = this.#options
    const now = router.now()
    const mailbox = mailboxAddress(recipient, periodAt(now, config.periodMs), this.#backend)
    const expiry = Math.floor((now + config.retentionMs) / 1000)
    const subject = { mailboxId: mailbox.id, item, expiry }
    const mint = this.#options.mint ?? (async (s, d) => mintStamp(s, d, this.#backend))
    const stamp = await mint(subject, config.stampDifficulty)
    const deposit = { ...subject, stamp }
    return Promise.all(
      this.#holders(mailbox.id).map((holder) =>
        this.#outcome(holder, () => this.#circuits.request(holder, { command: 'mailboxDeposit', deposit })),
      ),
    )
  }

  /**
   * Every item waiting for `identity` in the mailboxes asked (see
   * FetchOptions), each once however many holders keep it, oldest first.
   */
  async fetch(identity: Identity, options: FetchOptions = {}): Promise<FetchedItem[]> {
    const { router, config } = this.#options
    const live = mailboxPeriods(router.now(), config.periodMs, config.retentionMs)
    this.#forgetExpired(live.at(-1)!)
    const found = new Map<string, FetchedItem>()
    for (const period of options.periods ?? live) {
      if (this.#circuits.stopped) throw new OnionError('CIRCUIT_CLOSED', 'the mailbox client is stopped')
      const signer = blindedSigner(identity, period, this.#backend, MAILBOX_BLINDING)
      const mailboxId = hex(mailboxIdOf(signer.publicKey, this.#backend))
      const fetchAt = (holder: Holder) => this.#fetchAll(holder, signer, period, mailboxId, options.cursor)
      const holders = this.#holders(Buffer.from(mailboxId, 'hex'), SPARE_HOLDERS)
      const [relays, own] = await Promise.all([
        this.#fetchFirst(holders, options.holders ?? holders.length, fetchAt),
        this.#options.local ? this.#quietly(SELF, fetchAt) : undefined,
      ])
      for (const item of [...relays.flat(), ...(own ?? [])]) {
        const id = mailboxItemId(item.item, this.#backend)
        found.set(hex(id), { id, item: item.item, expiry: item.expiry, period })
        this.#fetched.set(hex(id), period)
      }
    }
    return [...found.values()].sort((a, b) => a.expiry - b.expiry || hex(a.id).localeCompare(hex(b.id)))
  }

  /**
   * Items fetched and never acked (a group mailbox's: every member needs
   * them) are forgotten once their period is past the retention, so the map
   * stays as large as what the holders may still keep.
   */
  #forgetExpired(oldest: number): void {
    for (const [id, period] of this.#fetched) if (period < oldest) this.#fetched.delete(id)
    for (const [key, { period }] of this.#cursors) if (period < oldest) this.#cursors.delete(key)
  }

  /**
   * The items of the first `count` of `holders` that answer: they are asked
   * together, and for each that fails the next in line.
   */
  async #fetchFirst(
    holders: RelayEntry[],
    count: number,
    fetchAt: (holder: Holder) => Promise<MailboxItem[]>,
  ): Promise<MailboxItem[][]> {
    const lists: MailboxItem[][] = []
    let next = 0
    const ask = async (): Promise<void> => {
      while (next < holders.length) {
        const items = await this.#quietly(holders[next++]!, fetchAt)
        if (items) return void lists.push(items)
      }
    }
    await Promise.all(Array.from({ length: Math.min(count, holders.length) }, ask))
    return lists
  }

  /** `fetchAt(holder)`, or undefined when it failed (logged: another holder may have the items). */
  #quietly(holder: Holder, fetchAt: (holder: Holder) => Promise<MailboxItem[]>) {
    return fetchAt(holder).catch((error: unknown) => {
      this.#options.log.debug({ err: error, holder: idOf(holder) }, 'mailbox fetch failed')
      return undefined
    })
  }

  /** Tells every holder of the items' mailboxes to delete them (items this client fetched). */
  async ack(identity: Identity, ids: Uint8Array[]): Promise<HolderOutcome[]> {
    const byPeriod = new Map<number, Uint8Array[]>()
    for (const id of ids) {
      const period = this.#fetched.get(hex(id))
      if (period !== undefined) byPeriod.set(period, [...(byPeriod.get(period) ?? []), id])
    }
    const outcomes: HolderOutcome[] = []
    for (const [period, list] of byPeriod) {
      const signer = blindedSigner(identity, period, this.#backend, MAILBOX_BLINDING)
      const holders = this.#withSelf(
        this.#holders(mailboxIdOf(signer.publicKey, this.#backend), SPARE_HOLDERS),
      )
      for (let at = 0; at < list.length; at += MAX_ACK_IDS) {
        const chunk = list.slice(at, at + MAX_ACK_IDS)
        outcomes.push(
          ...(await Promise.all(
            holders.map((holder) => this.#outcome(holder, () => this.#ackAt(holder, signer, chunk))),
          )),
        )
      }
      for (const id of list) this.#fetched.delete(hex(id))
    }
    return outcomes
  }

  /** Destroys the kept circuits; requests under way or queued fail at once (none builds a new circuit). */
  stop(): void {
    this.#circuits.stop()
  }

  #holders(mailboxId: Uint8Array, spare = 0): RelayEntry[] {
    const { directory, router, config } = this.#options
    return mailboxHolders(directory, mailboxId, config.holders + spare, router.now(), this.#backend)
  }

  #withSelf(holders: RelayEntry[]): Holder[] {
    return this.#options.local ? [...holders, SELF] : holders
  }

  async #outcome(holder: Holder, run: () => Promise<{ result: MailboxResult }>): Promise<HolderOutcome> {
    try {
      return { holder: idOf(holder), status: statusName((await run()).result) }
    } catch (error) {
      this.#options.log.debug({ err: error, holder: idOf(holder) }, 'mailbox request failed')
      return { holder: idOf(holder), status: 'failed' }
    }
  }

  /**
   * A FETCH or an ACK at `holder`. Our own holder needs no circuit: the
   * request is signed over a fresh random binding, which it checks as it
   * would a circuit's.
   */
  #ask(
    holder: Holder,
    request: (binding: Uint8Array) => MailboxRequest,
  ): Promise<{ items: MailboxItem[]; result: MailboxResult }> {
    const local = this.#options.local
    if (holder !== SELF || !local) return this.#circuits.request(holder as RelayEntry, request)
    const binding = this.#backend.randomBytes(32)
    const message = request(binding)
    if (message.command === 'mailboxFetch') return local.fetch(message.fetch, binding)
    if (message.command === 'mailboxAck')
      return local.ack(message.ack, binding).then((result) => ({ items: [], result }))
    throw new OnionError('MAILBOX_REFUSED', 'we deposit only with other relays')
  }

  /**
   * Pages through one holder's items for the mailbox of `signer` (with a
   * cursor: those since the one kept for it). The cursor moves on only once
   * every page came, to the `next` of the first page: an item stored while
   * paging comes again next time, and is dropped as known.
   */
  async #fetchAll(
    holder: Holder,
    signer: BlindedSigner,
    period: number,
    mailboxId: string,
    cursor: FetchOptions['cursor'],
  ): Promise<MailboxItem[]> {
    const key = `${idOf(holder)}.${mailboxId}`
    const from =
      cursor === undefined ? undefined : cursor === 'resume' ? (this.#cursors.get(key)?.next ?? 0) : 0
    const items: MailboxItem[] = []
    let next: number | undefined
    for (let retries = 0; retries <= FETCH_RETRIES; ) {
      const answer = await this.#ask(holder, (binding) => ({
        command: 'mailboxFetch',
        fetch: {
          mailboxKey: signer.publicKey,
          signature: signer.sign(signedBytes(DOMAIN.mailboxFetch, binding)),
          skip: items.length,
          ...(from === undefined ? {} : { from }),
        },
      }))
      if (answer.result.status !== MailboxStatus.ok)
        throw new OnionError('MAILBOX_REFUSED', `holder refused the fetch: ${statusName(answer.result)}`)
      // Cells lost on the way: ask for the same page again.
      if (answer.items.length !== answer.result.sent) {
        retries++
        continue
      }
      next ??= answer.result.next
      items.push(...answer.items)
      if (answer.result.more === 0 || answer.items.length === 0) {
        if (next !== undefined) this.#cursors.set(key, { next, period })
        return items
      }
    }
    throw new OnionError('TIMEOUT', 'the holder’s answers kept losing items')
  }

  #ackAt(holder: Holder, signer: BlindedSigner, ids: Uint8Array[]) {
    return this.#ask(holder, (binding) => ({
      command: 'mailboxAck',
      ack: {
        mailboxKey: signer.publicKey,
        signature: signer.sign(signedBytes(DOMAIN.mailboxAck, ackSignedBytes(binding, ids))),
        ids,
      },
    }))
  }
}

import type { MailboxConfig } from '../config/sections/mailbox.js'
import type { CryptoBackend } from '../crypto/backend.js'
import { defaultBackend } from '../crypto/default-backend.js'
import { dhtNodeId } from '../dht/node-id.js'
import type { Logger } from '../log.js'
import { MAILBOX_STATUS_NAMES, type MailboxDeposit, type MailboxStatusName } from '../wire/mailbox.js'
import { HolderCircuits, type HolderCircuitsOptions } from './holder-circuits.js'
import { closestTo, type PlacedNode, placedRelays } from './mailbox-address.js'
import type { HeldItem, MailboxHolder } from './mailbox-holder.js'

/** What the planner needs of a held item (HeldItem has it all). */
export interface PlanItem {
  key: string
  mailboxId: Uint8Array
  /** When this holder stored it (ms). */
  storedAt: number
  stamp: Uint8Array | undefined
  to: string[] | undefined
}

export interface HandoffInput<T extends PlanItem> {
  /** This holder: it counts among the responsible when it is one of the k closest. */
  self: PlacedNode
  /** The relays of its directory (which never lists its own node). */
  relays: readonly PlacedNode[]
  /** Held items, in the order to plan them. */
  items: readonly T[]
  k: number
  /** Pushes this plan may contain, at most. */
  budget: number
  /** Pushes not to plan (refused before, or the target is unreachable this round). */
  skip?: (key: string, target: string) => boolean
}

export interface HandoffPlan<T extends PlanItem> {
  /** Items seen for the first time, and the relays assumed to keep them already. */
  baselines: { item: T; to: string[] }[]
  /** Deposits to send: `item` to the relay `target`. */
  pushes: { item: T; target: string }[]
  /** Items this holder may drop: it is not responsible, and every responsible relay keeps them. */
  releases: T[]
  /** Items planned in full, from the first; the rest did not fit the budget. */
  planned: number
}

/**
 * Which items go to whom (docs/protocol.md "Mailboxes" → "Handoff"). For each
 * item: the k nodes closest to its mailbox id among this holder and its
 * relays are responsible; every one of them not known to keep the item gets
 * it pushed (with the depositor's stamp: an item without one stays put).
 *
 * At first sight of an item (`to` undefined) a holder that is itself
 * responsible assumes that the other responsible relays its directory listed
 * when the item was stored got it from the depositor, whose view presumably
 * agreed with its own; one that is not responsible assumes nothing and pushes
 * to all. A holder no longer responsible drops the item once every
 * responsible relay keeps it.
 *
 * Pure: the handoff rounds and the churn simulation (bench/mailbox-churn-sim.ts)
 * run this same function.
 */
export function planHandoff<T extends PlanItem>(input: HandoffInput<T>): HandoffPlan<T> {
  const { self, k, skip } = input
  const nodes = [self, ...input.relays.filter((relay) => relay.id !== self.id)]
  const responsibleFor = new Map<string, { self: boolean; others: PlacedNode[] }>()
  const plan: HandoffPlan<T> = { baselines: [], pushes: [], releases: [], planned: 0 }
  for (const item of input.items) {
    const mailbox = Buffer.from(item.mailboxId).toString('hex')
    let responsible = responsibleFor.get(mailbox)
    if (!responsible) {
      const closest = closestTo(item.mailboxId, nodes, k)
      responsible = {
        self: closest.some((node) => node.id === self.id),
        others: closest.filter((node) => node.id !== self.id),
      }
      responsibleFor.set(mailbox, responsible)
    }
    let to = item.to
    if (to === undefined) {
      to = responsible.self
        ? responsible.others.filter((node) => (node.since ?? 0) <= item.storedAt).map((node) => node.id)
        : []
      plan.baselines.push({ item, to })
    }
    const known = new Set(to)
    const others = responsible.others.map((node) => node.id)
    const missing = item.stamp ? others.filter((id) => !known.has(id) && !skip?.(item.key, id)) : []
    const room = input.budget - plan.pushes.length
    plan.pushes.push(...missing.slice(0, room).map((target) => ({ item, target })))
    if (missing.length > room) break
    plan.planned++
    if (!responsible.self && others.every((id) => known.has(id))) plan.releases.push(item)
  }
  return plan
}

/** Delivers one handed-off deposit to a relay. */
export interface HandoffTransport {
  /** The relay's answer to `deposit`, or `failed` when none came (no circuit, timeout). */
  push(target: string, deposit: MailboxDeposit): Promise<MailboxStatusName | 'failed'>
  /** The round is over: circuits may be closed until the next. */
  idle?(): void
}

export interface MailboxHandoffOptions {
  holder: MailboxHolder
  /** This node as holder selection sees it. */
  self: PlacedNode
  /** The relays of this node's directory now. */
  relays: () => PlacedNode[]
  transport: HandoffTransport
  config: MailboxConfig
  log: Logger
}

export interface HandoffCounts {
  rounds: number
  /** Pushes a relay accepted (it keeps the item now). */
  pushed: number
  /** Pushes a relay refused (never sent to it again while this process runs). */
  refused: number
  /** Pushes without an answer (sent again in a later round). */
  failed: number
  /** Items dropped here after every responsible relay kept them. */
  released: number
}

/** Items read from the holder at a time. */
const PAGE = 256

/**
 * A holder's handoff (docs/protocol.md "Mailboxes" → "Handoff"): rounds in
 * which it pushes its items to the relays newly responsible for their
 * mailboxes, so a mailbox outlives its holders while its sender is offline.
 * A round runs every `handoffIntervalMs`, and sooner when the directory
 * changed or the last round left work (checked every `handoffCheckMs`); it
 * sends at most `handoffPushesPerRound` deposits. Rounds run one at a time.
 */
export class MailboxHandoff {
  readonly #options: MailboxHandoffOptions
  readonly #log: Logger
  /** `item key>target` of pushes refused: planning skips them (a relay that did not answer is tried next round). */
  readonly #refused = new Set<string>()
  readonly #counts: HandoffCounts = { rounds: 0, pushed: 0, refused: 0, failed: 0, released: 0 }
  #running: Promise<HandoffCounts> | undefined
  #fingerprint = ''
  #pending = true
  #timers: NodeJS.Timeout[] = []

  constructor(options: MailboxHandoffOptions) {
    this.#options = options
    this.#log = options.log.child({ c: 'mailbox-handoff' })
  }

  start(): void {
    if (this.#timers.length > 0) return
    const { handoffIntervalMs, handoffCheckMs } = this.#options.config
    const run = () => {
      this.round().catch((error: unknown) => this.#log.warn({ err: error }, 'mailbox handoff round failed'))
    }
    const check = () => {
      if (this.#pending || fingerprintOf(this.#options.relays()) !== this.#fingerprint) run()
    }
    this.#timers = [setInterval(run, handoffIntervalMs), setInterval(check, handoffCheckMs)]
    for (const timer of this.#timers) timer.unref()
  }

  stop(): void {
    for (const timer of this.#timers) clearInterval(timer)
    this.#timers = []
    this.#options.transport.idle?.()
  }

  /** Totals since start. */
  counts(): HandoffCounts {
    return { ...this.#counts }
  }

  /** One round now (or the one running); resolves with the totals after it. */
  round(): Promise<HandoffCounts> {
    this.#running ??= this.#round().finally(() => {
      this.#running = undefined
      this.#options.transport.idle?.()
    })
    return this.#running
  }

  async #round(): Promise<HandoffCounts> {
    const { holder, config } = this.#options
    const relays = this.#options.relays()
    this.#fingerprint = fingerprintOf(relays)
    this.#pending = false
    this.#counts.rounds++
    const unreachable = new Set<string>()
    const skip = (key: string, target: string) =>
      unreachable.has(target) || this.#refused.has(`${key}>${target}`)
    let budget = config.handoffPushesPerRound
    let after: string | undefined
    const seen = new Set<string>()
    for (let page = await holder.heldItems(after, PAGE); page.length > 0; ) {
      for (const item of page) seen.add(item.key)
      let rest = page
      while (rest.length > 0 && budget > 0) {
        const plan = planHandoff({
          self: this.#options.self,
          relays,
          items: rest,
          k: config.holders,
          budget,
          skip,
        })
        for (const { item, to } of plan.baselines) {
          item.to = to
          await holder.recordHandoff(item.key, to)
        }
        budget -= await this.#push(plan.pushes, unreachable)
        for (const item of plan.releases) if (await holder.release(item.key)) this.#counts.released++
        rest = rest.slice(plan.planned)
        if (plan.planned === 0 && plan.pushes.length === 0) break
      }
      if (rest.length > 0) {
        this.#pending = true
        break
      }
      after = page.at(-1)!.key
      page = await holder.heldItems(after, PAGE)
    }
    // Refusals of items no longer held are of no use (after a full pass only: then every held item was seen).
    if (!this.#pending)
      for (const refusal of this.#refused)
        if (!seen.has(refusal.slice(0, refusal.indexOf('>')))) this.#refused.delete(refusal)
    return this.counts()
  }

  /**
   * Sends the pushes, one at a time per target and targets side by side; a
   * target that fails once is left for this round. Returns how many were sent.
   */
  async #push(pushes: { item: HeldItem; target: string }[], unreachable: Set<string>): Promise<number> {
    const byTarget = new Map<string, HeldItem[]>()
    for (const { item, target } of pushes) byTarget.set(target, [...(byTarget.get(target) ?? []), item])
    const sent = await Promise.all(
      [...byTarget].map(async ([target, items]) => {
        let count = 0
        for (const item of items) {
          if (unreachable.has(target)) break
          count++
          await this.#pushOne(item, target, unreachable)
        }
        return count
      }),
    )
    return sent.reduce((a, b) => a + b, 0)
  }

  async #pushOne(item: HeldItem, target: string, unreachable: Set<string>): Promise<void> {
    const { holder, transport } = this.#options
    const deposit = { mailboxId: item.mailboxId, expiry: item.expiry, stamp: item.stamp!, item: item.item }
    const status = await transport.push(target, deposit).catch(() => 'failed' as const)
    if (status === 'ok') {
      // The most recent 2k: enough to cover every responsible relay, bounded however long the item lives.
      item.to = [...(item.to ?? []), target].slice(-2 * this.#options.config.holders)
      await holder.recordHandoff(item.key, item.to)
      this.#counts.pushed++
    } else if (status === 'failed' || status === 'unavailable') {
      unreachable.add(target)
      this.#counts.failed++
    } else {
      this.#refused.add(`${item.key}>${target}`)
      this.#counts.refused++
      this.#log.debug({ target, status }, 'a relay refused a handed-off item')
    }
  }
}

const fingerprintOf = (relays: PlacedNode[]): string =>
  relays
    .map((relay) => relay.id)
    .sort()
    .join()

/** Pushes go through holder circuits (their router, directory and onion settings). */
export interface NetworkHandoffOptions extends HolderCircuitsOptions {
  holder: MailboxHolder
  config: MailboxConfig
  log: Logger
  backend?: CryptoBackend
}

/**
 * The handoff of a relay's holder over the network: pushes go through
 * outbound circuits of this node whose last hop is the target, like any
 * deposit, so the target cannot tell a handoff from a sender.
 */
export function networkHandoff(options: NetworkHandoffOptions): MailboxHandoff {
  const { router, directory, backend = defaultBackend } = options
  const circuits = new HolderCircuits(options)
  return new MailboxHandoff({
    holder: options.holder,
    self: { id: router.nodeId, dhtId: dhtNodeId(Buffer.from(router.nodeId, 'hex'), backend) },
    relays: () => placedRelays(directory, router.now(), backend),
    transport: {
      async push(target, deposit) {
        const entry = directory.get(target)
        if (!entry) return 'failed'
        const { result } = await circuits.request(entry, { command: 'mailboxDeposit', deposit })
        return MAILBOX_STATUS_NAMES.get(result.status)!
      },
      idle: () => circuits.release(),
    },
    config: options.config,
    log: options.log,
  })
}

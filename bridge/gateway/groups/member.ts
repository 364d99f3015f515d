import type { GroupsConfig } from '../../config/sections/groups.js'
import type { Identity } from '../../crypto/identity.js'
import type { Logger } from '../../log.js'
import { isOnline, onlineBitmap } from '../../messaging/groups/fanout.js'
import { FanoutNode, type GroupDelivery, type GroupMembership } from '../../messaging/groups/fanout-node.js'
import { GroupPresence } from '../../messaging/groups/presence.js'
import type { GroupSession, OpenedGroupMessage, Outgoing } from '../../messaging/groups/session.js'
import type { GroupState } from '../../messaging/groups/state.js'
import { GroupTimeline } from '../../messaging/groups/timeline.js'
import { encodeGroupControl } from '../../wire/group-control.js'
import { decodeFanoutPacket, type FanoutPacket } from '../../wire/group-fanout.js'
import { encodeGroupHop } from '../../wire/group-hop.js'
import { type GroupBody, MAX_MAILBOX_MESSAGE } from '../../wire/group-message.js'
import type { GroupMailboxPort } from './mailbox-port.js'

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')
/** Why a group mailbox item may open later: a state or key still on its way. */
const OPENS_LATER = new Set(['STATE_GAP', 'FUTURE_EPOCH', 'NO_EPOCH_KEY'])
const equal = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b) === 0

/** What a member sends through: the pairwise messenger (reliable bodies). */
export type MemberSend = (from: Uint8Array, to: Uint8Array, body: Uint8Array) => Promise<void>

export interface MemberOptions {
  identity: Identity
  group: Uint8Array
  session: GroupSession
  config: GroupsConfig
  log: Logger
  send: MemberSend
  /** An opened message is due to be shown (in timestamp order). */
  show: (member: GroupMember, message: OpenedGroupMessage) => Promise<void>
  now: () => number
  /** The group mailbox, for members the fan-out does not reach; none: they miss what is sent while away. */
  mailbox?: GroupMailboxPort
}

/**
 * In a group small enough that the sender writes to every member itself, all
 * members count as online: each then gets a reliable pairwise body, which the
 * messenger carries to an offline member's own mailbox. Larger groups use the
 * presence heard; members left out catch up from the group mailbox.
 */
class ReachEveryone extends GroupPresence {
  constructor(
    timeoutMs: number,
    now: () => number,
    private readonly directMax: number,
  ) {
    super(timeoutMs, now)
  }

  override bitmap(members: readonly Uint8Array[], self: number, at?: number): Uint8Array {
    if (members.length - 1 <= this.directMax) return onlineBitmap(members.length, (i) => i !== self)
    return super.bitmap(members, self, at)
  }
}

/**
 * One local identity's membership of one group, in the gateway: its group
 * session, its fan-out node and presence view, and the timeline that puts
 * opened messages in order before the room shows them. Messages that cannot
 * be opened yet (their epoch key or state is still on its way) wait, bounded,
 * and are tried again whenever a state or key arrives.
 */
export class GroupMember {
  readonly node: FanoutNode
  readonly presence: ReachEveryone
  private readonly timeline: GroupTimeline
  private waiting: { bytes: Uint8Array; via?: Uint8Array }[] = []
  private timer: NodeJS.Timeout | undefined
  private readonly keyWaiters: (() => void)[] = []
  /** The hops of the packet being published, to wait for. */
  private hops: Promise<void>[] | undefined
  private stopped = false
  /** The group mailbox fetch under way, so syncs do not pile up. */
  private syncing: Promise<number> | undefined
  /** Per epoch, when its group mailbox was last fetched (the fetch's start): later syncs fetch only what came since. */
  private readonly synced = new Map<number, number>()

  constructor(private readonly options: MemberOptions) {
    const { config, identity, session, now } = options
    this.presence = new ReachEveryone(config.presenceTimeoutMs, now, config.directMax)
    this.timeline = new GroupTimeline(config.orderHoldMs, now)
    const membership: GroupMembership = {
      members: (version) => this.membersOf(version),
      current: () => {
        const state = this.state
        return { version: state?.version ?? 0, members: state ? this.membersOf(state.version)! : [] }
      },
    }
    this.node = new FanoutNode({
      self: identity,
      groupId: options.group,
      config,
      membership,
      presence: this.presence,
      log: options.log,
      now,
      send: (member, packet) => {
        const sent = options.send(identity.publicKey, member, encodeGroupHop(packet))
        this.hops?.push(sent)
        return sent
      },
      deliver: (delivery) => this.delivered(delivery),
      depositForOffline: (packet) => this.deposit(packet),
      // Group mailbox items carry the group message, not the fan-out packet: catchUp() below opens them.
      fetchMailbox: async () => [],
      requestState: (_version, from) => {
        if (from)
          this.sendAll([{ to: [from], body: session.syncRequest() }]).catch((err) =>
            options.log.debug({ err }, 'state request not sent'),
          )
      },
    })
  }

  get identity(): Identity {
    return this.options.identity
  }

  get group(): Uint8Array {
    return this.options.group
  }

  get session(): GroupSession {
    return this.options.session
  }

  get state(): GroupState | undefined {
    return this.options.session.state
  }

  /** Whether it can send to the group now: a member, with the current epoch's key in normal mode. */
  canSeal(): boolean {
    const state = this.state
    if (!state?.members.has(hex(this.options.identity.publicKey))) return false
    return state.config.mode === 'high' || this.options.session.epochs().includes(state.epoch)
  }

  isMember(address: Uint8Array): boolean {
    return this.state?.members.has(hex(address)) ?? false
  }

  private membersOf(version: number): Uint8Array[] | undefined {
    return this.options.session.membersAt(version)
  }

  /** Until it can send (its state and epoch key arrived) or `ms` passed. */
  ready(ms = this.options.config.keyWaitMs): Promise<void> {
    if (this.canSeal() || ms === 0) return Promise.resolve()
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms).unref()
      this.keyWaiters.push(() => {
        clearTimeout(timer)
        resolve()
      })
    })
  }

  /** Seals a body, waiting up to groups.keyWaitMs for an epoch key still on its way. */
  private async seal(body: GroupBody) {
    await this.ready()
    return this.options.session.seal(body)
  }

  /** Sends a group body to every other member: once through the fan-out (normal), or sealed for each (high). */
  async publish(body: GroupBody): Promise<void> {
    const sealed = await this.seal(body)
    if (sealed.mode === 'high') return this.sendAll([{ to: sealed.recipients, body: sealed.pairwiseBody }])
    // Resolves once every first hop is in the messenger's outbox (a failed one is the node's to log).
    this.hops = []
    try {
      this.node.publish(sealed.message)
    } finally {
      const hops = this.hops
      this.hops = undefined
      await Promise.allSettled(hops)
    }
  }

  /** Sends a group body to one member only (telling a newcomer who is in the room). */
  async tell(to: Uint8Array, body: GroupBody): Promise<void> {
    const sealed = await this.seal(body)
    await this.sendAll([{ to: [to], body: sealed.pairwiseBody }])
  }

  async sendAll(sends: Outgoing[]): Promise<void> {
    const self = this.options.identity.publicKey
    for (const { to, body } of sends)
      for (const address of to) if (!equal(address, self)) await this.options.send(self, address, body)
  }

  /** A group message to open (a fan-out delivery, or a pairwise copy from `via`); `retried`: it waited already. */
  async open(bytes: Uint8Array, via?: Uint8Array, retried = false): Promise<void> {
    try {
      this.queue(await this.options.session.open(bytes, { via }))
    } catch (err) {
      const code = (err as { code?: string }).code
      // A sender we do not know as a member yet may be one of a state still on its way: ask it.
      const newcomer =
        code === 'NOT_MEMBER' && via !== undefined && this.isMember(this.options.identity.publicKey)
      if (newcomer || code === 'FUTURE_EPOCH' || code === 'NO_EPOCH_KEY' || code === 'STATE_GAP') {
        this.waiting.push({ bytes, via })
        this.waiting.splice(0, Math.max(0, this.waiting.length - this.options.config.heldPackets))
        if (newcomer && via && !retried)
          await this.sendAll([{ to: [via], body: this.options.session.syncRequest() }])
      } else this.options.log.debug({ err, code }, 'group message not opened')
    }
  }

  /** A state or a key arrived: messages that waited for one, and fan-out packets held for a version, go again. */
  async retry(): Promise<void> {
    if (this.canSeal()) for (const wake of this.keyWaiters.splice(0)) wake()
    this.node.retryHeld()
    const waiting = this.waiting.splice(0)
    for (const { bytes, via } of waiting) await this.open(bytes, via, true)
  }

  private delivered(delivery: GroupDelivery): void {
    void this.open(delivery.inner)
  }

  /**
   * The origin's one deposit for the members the plan left out: the sealed
   * group message inside the packet, as an item of the current epoch's group
   * mailbox. Members fetch every epoch whose key they hold, so one that just
   * changed still finds it.
   */
  private async deposit(packet: Uint8Array): Promise<void> {
    const { mailbox, session, config } = this.options
    if (!mailbox) return
    const identity = session.mailboxIdentity()
    if (!identity) return
    const decoded = decodeFanoutPacket(packet, config.maxPacketBytes)
    if (decoded.inner.length > MAX_MAILBOX_MESSAGE) return this.sendToOffline(decoded)
    await mailbox.deposit(identity.publicKey, session.mailboxItem(decoded.inner))
  }

  /**
   * A message too long for one group mailbox item goes to each member the
   * packet counts offline as a reliable pairwise body instead, which reaches
   * it through its own mailbox: one stamp per offline member, not one in all.
   */
  private async sendToOffline(packet: FanoutPacket): Promise<void> {
    const members = this.membersOf(packet.stateVersion)
    if (!members) return
    const offline = members.filter((_, i) => !isOnline(packet.online, i))
    await this.sendAll([
      { to: offline, body: encodeGroupControl({ type: 'message', message: packet.inner }) },
    ])
  }

  /**
   * Fetches the group mailbox of every epoch whose key is held and opens what
   * it holds (on return, and every groups.syncIntervalMs); the session drops
   * what was opened before. Items are never acked: the other members need
   * them too. After an epoch's first fetch, later ones ask only for what was
   * deposited since the previous one (the periods since, a few holders, and
   * only what each stored since it was last asked: GroupMailboxPort);
   * `full` (on return to the network) fetches everything again, as does the
   * next sync of an epoch with an item that may open later. Resolves to how
   * many were new; a fetch under way is joined.
   */
  catchUp({ full = false } = {}): Promise<number> {
    if (!this.options.mailbox || this.stopped) return Promise.resolve(0)
    if (full) this.synced.clear()
    this.syncing ??= this.fetchAll().finally(() => {
      this.syncing = undefined
    })
    return this.syncing
  }

  private async fetchAll(): Promise<number> {
    const { mailbox, session, log } = this.options
    let opened = 0
    const epochs = session.mailboxEpochs()
    for (const epoch of this.synced.keys()) if (!epochs.includes(epoch)) this.synced.delete(epoch)
    for (const epoch of epochs) {
      const identity = session.mailboxIdentity(epoch)
      if (!identity || !mailbox) continue
      const started = this.options.now()
      const items = await mailbox.fetch(identity, this.synced.get(epoch))
      this.synced.set(epoch, started)
      for (const { item } of items) {
        try {
          this.queue(await session.openMailboxItem(epoch, item), false)
          opened++
        } catch (err) {
          // Seen before (DUPLICATE) is the common case; a routine sync would not fetch it again.
          const code = (err as { code?: string }).code
          if (code && OPENS_LATER.has(code)) this.synced.delete(epoch)
          log.debug({ err, code }, 'group mailbox item not opened')
        }
      }
    }
    return opened
  }

  /** `fresh`: just sent, so its sender is online (a mailbox copy may be days old). */
  private queue(message: OpenedGroupMessage, fresh = true): void {
    if (fresh) this.presence.heard(message.sender)
    this.timeline.add(message)
    this.schedule()
  }

  private schedule(): void {
    if (this.stopped || this.timer) return
    const due = this.timeline.nextDue()
    if (due === undefined) return
    this.timer = setTimeout(() => void this.release(), Math.max(0, due - this.options.now())).unref()
  }

  private async release(): Promise<void> {
    this.timer = undefined
    for (const { message } of this.timeline.release()) {
      try {
        await this.options.show(this, message)
      } catch (err) {
        this.options.log.warn({ err }, 'a group message could not be shown')
      }
    }
    this.schedule()
  }

  stop(): void {
    this.stopped = true
    for (const wake of this.keyWaiters.splice(0)) wake()
    clearTimeout(this.timer)
    this.node.stop()
  }
}

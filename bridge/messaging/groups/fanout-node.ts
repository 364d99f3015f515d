import { randomBytes } from 'node:crypto'
import type { GroupsConfig } from '../../config/sections/groups.js'
import type { CryptoBackend } from '../../crypto/backend.js'
import { nativeBackend } from '../../crypto/native.js'
import { ParanoimError } from '../../errors.js'
import type { Logger } from '../../log.js'
import {
  decodeFanoutPacket,
  FANOUT_MESSAGE_ID_LENGTH,
  type FanoutPacket,
  FanoutWireError,
  signFanoutPacket,
  verifyFanoutPacket,
} from '../../wire/group-fanout.js'
import { RecentIds } from '../recent-ids.js'
import { hex, joinKey } from '../tables.js'
import { childrenOf, chooseWidth, type FanoutHeader, isOnline, onlineBitmap, upstreamOf } from './fanout.js'
import type { GroupPresence } from './presence.js'

/** The little of the group state fan-out needs (the group protocol owns the rest). */
export interface GroupMembership {
  /** The ordered member list of state `version`, or undefined when this member does not hold it. */
  members(version: number): readonly Uint8Array[] | undefined
  /** The newest state this member holds: what its own packets name. */
  current(): { version: number; members: readonly Uint8Array[] }
}

/** A group message handed up, once per (origin, message id) while it is in the dedupe window. */
export interface GroupDelivery {
  origin: Uint8Array
  messageId: Uint8Array
  timestamp: number
  stateVersion: number
  /** The sealed group message, as the origin's group session made it. */
  inner: Uint8Array
  via: 'tree' | 'mailbox'
}

export interface FanoutPorts {
  /** One hop: a pairwise message to a member (the messenger: reliable, reaches it through its mailbox). */
  send(member: Uint8Array, packet: Uint8Array): Promise<void> | void
  deliver(message: GroupDelivery): void
  /** One deposit in the group mailbox, for the members the tree does not reach. */
  depositForOffline(packet: Uint8Array): Promise<void> | void
  /** Every packet the group mailbox holds. */
  fetchMailbox(): Promise<readonly Uint8Array[]>
  /** A packet names a state version this member lacks: ask for it (`from` forwarded it), then call retryHeld(). */
  requestState(version: number, from: Uint8Array | undefined): void
}

export interface FanoutNodeOptions extends FanoutPorts {
  /** This member's identity key pair (it signs the packets it originates). */
  self: { seed: Uint8Array; publicKey: Uint8Array }
  groupId: Uint8Array
  config: GroupsConfig
  membership: GroupMembership
  presence: GroupPresence
  log: Logger
  now?: () => number
  random?: (n: number) => Uint8Array
  backend?: CryptoBackend
  /** Runs `fn` after `ms`; default setTimeout (unref'd). */
  setTimer?: (ms: number, fn: () => void) => void
}

/** What receive() did with a packet. */
export type ReceiveOutcome =
  | 'delivered'
  | 'duplicate'
  /** Its state version is unknown here: held (bounded) and asked for. */
  | 'held'
  | 'malformed'
  | 'otherGroup'
  | 'badSignature'
  /** The origin is not in the state it names, or the member count does not match it. */
  | 'notMember'

export type FanoutErrorCode =
  /** This identity is not in the group's current state. */
  | 'FANOUT_NOT_MEMBER'
  /** The packet would exceed groups.maxPacketBytes. */
  | 'FANOUT_TOO_LARGE'

export class FanoutError extends ParanoimError {
  declare readonly code: FanoutErrorCode

  constructor(code: FanoutErrorCode, message: string) {
    super(code, message)
  }
}

/** A packet received over the tree, waiting to see whether each upstream member sends its copy too. */
interface Watch {
  header: FanoutHeader
  members: readonly Uint8Array[]
  bytes: Uint8Array
  self: number
  upstream: number[]
  heard: Set<number>
}

interface Held {
  bytes: Uint8Array
  from: Uint8Array | undefined
  version: number
}

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean =>
  a.length === b.length && a.every((byte, i) => byte === b[i])

/**
 * One member's fan-out of one group (docs/group-fanout.md "The forwarding
 * node"): originates packets, and for each packet it receives verifies the
 * origin's signature and membership, drops second copies, hands the inner
 * message up once and forwards the same bytes to its children in the plan.
 * The dedupe window is in memory; the group session dedupes durably.
 */
export class FanoutNode {
  private readonly seen: RecentIds
  private readonly held: Held[] = []
  private readonly indexes = new WeakMap<readonly Uint8Array[], Map<string, number>>()
  private readonly watching = new Map<string, Watch>()
  private readonly setTimer: (ms: number, fn: () => void) => void
  private stopped = false
  private standIns = 0
  private readonly now: () => number
  private readonly random: (n: number) => Uint8Array
  private readonly backend: CryptoBackend

  constructor(private readonly options: FanoutNodeOptions) {
    this.seen = new RecentIds(options.config.relayDedupeIds)
    this.now = options.now ?? Date.now
    this.random = options.random ?? ((n) => new Uint8Array(randomBytes(n)))
    this.backend = options.backend ?? nativeBackend
    this.setTimer = options.setTimer ?? ((ms, fn) => setTimeout(fn, ms).unref())
  }

  /** Times this member stood in for a silent upstream member (see repair). */
  get repairs(): number {
    return this.standIns
  }

  /** Drops pending repairs; receive and publish still work (for a restart, make a new node). */
  stop(): void {
    this.stopped = true
    this.watching.clear()
  }

  /**
   * Normal mode: one packet for everyone, sent to the first layer of the
   * tree; deposited once in the group mailbox unless every other member is
   * online and the origin reaches each itself.
   */
  publish(inner: Uint8Array): { messageId: Uint8Array; timestamp: number; packet: Uint8Array } {
    const { members, version } = this.options.membership.current()
    const self = this.selfIndex(members)
    const online = this.options.presence.bitmap(members, self, this.now())
    const others = members.filter((_, i) => i !== self && isOnline(online, i)).length
    const width = chooseWidth(others, this.options.config)
    const sent = this.originate(inner, { version, members, online, width })
    const header = { memberCount: members.length, online, origin: self, seed: sent.messageId, width }
    for (const child of childrenOf(header, self)) this.hop(members[child]!, sent.packet)
    if (width !== 0 || others < members.length - 1)
      this.run('group mailbox deposit failed', () => this.options.depositForOffline(sent.packet))
    return sent
  }

  /**
   * High mode: a direct packet (width 0) to every other member, each with its
   * own sealed part; the pairwise messenger carries each to an offline member's
   * own mailbox, so nothing goes to the group mailbox.
   */
  publishEach(innerFor: (member: Uint8Array) => Uint8Array): { messageId: Uint8Array; timestamp: number } {
    const { members, version } = this.options.membership.current()
    const self = this.selfIndex(members)
    const everyone = onlineBitmap(members.length, (i) => i !== self)
    const messageId = this.random(FANOUT_MESSAGE_ID_LENGTH)
    const timestamp = this.now()
    members.forEach((member, i) => {
      if (i === self) return
      const fields = { version, members, online: everyone, width: 0, messageId, timestamp }
      this.hop(member, this.originate(innerFor(member), fields).packet)
    })
    return { messageId, timestamp }
  }

  /** A packet from the member `from` (a hop), or from the group mailbox (`from` undefined). Never throws. */
  receive(from: Uint8Array | undefined, bytes: Uint8Array): ReceiveOutcome {
    let packet: FanoutPacket
    try {
      packet = decodeFanoutPacket(bytes, this.options.config.maxPacketBytes)
    } catch (err) {
      if (err instanceof FanoutWireError) return this.refuse('malformed', err)
      throw err
    }
    if (!sameBytes(packet.groupId, this.options.groupId)) return this.refuse('otherGroup')
    if (from) this.heardMember(from)
    const key = joinKey(hex(packet.origin), hex(packet.messageId))
    if (this.seen.has(key)) {
      const watch = this.watching.get(key)
      if (watch && from) watch.heard.add(this.indexIn(watch.members, from))
      return 'duplicate'
    }
    if (!verifyFanoutPacket(packet, this.backend)) return this.refuse('badSignature')
    const members = this.options.membership.members(packet.stateVersion)
    if (!members) return this.hold(packet, from)
    const origin = this.indexIn(members, packet.origin)
    if (origin < 0 || members.length !== packet.memberCount) return this.refuse('notMember')
    this.seen.add(key)
    const fresh = Math.abs(this.now() - packet.timestamp) <= this.options.config.forwardWindowMs
    if (fresh) this.options.presence.heard(packet.origin)
    this.handUp(packet, from ? 'tree' : 'mailbox')
    if (from && fresh) {
      const header = { ...packet, seed: packet.messageId, origin }
      this.forward(header, members, packet.bytes)
      this.watch(key, header, members, packet.bytes, from)
    }
    return 'delivered'
  }

  /** Fetches the group mailbox and takes in what the tree did not bring (on return, and every syncIntervalMs). */
  async catchUp(): Promise<number> {
    const items = await this.options.fetchMailbox()
    return items.filter((item) => this.receive(undefined, item) === 'delivered').length
  }

  /** A state version arrived: takes in the packets held for it again. */
  retryHeld(): void {
    for (const { bytes, from } of this.held.splice(0)) this.receive(from, bytes)
  }

  /** A failing session above must not stop the forwarding: logged, and the packet stays seen. */
  private handUp(packet: FanoutPacket, via: GroupDelivery['via']): void {
    const { origin, messageId, timestamp, stateVersion, inner } = packet
    try {
      this.options.deliver({ origin, messageId, timestamp, stateVersion, inner, via })
    } catch (err) {
      this.options.log.warn({ err }, 'a group message could not be handed up')
    }
  }

  private forward(header: FanoutHeader, members: readonly Uint8Array[], bytes: Uint8Array): void {
    const self = this.indexIn(members, this.options.self.publicKey)
    if (self < 0) return
    const children = childrenOf(header, self)
    if (children.length > this.options.config.maxOutDegree) {
      this.options.log.debug(
        { children: children.length },
        'group packet asks too many copies: not forwarded',
      )
      return
    }
    for (const child of children) this.hop(members[child]!, bytes)
  }

  /** After the first copy over the tree: wait repairAfterMs for the other upstream members' copies. */
  private watch(
    key: string,
    header: FanoutHeader,
    members: readonly Uint8Array[],
    bytes: Uint8Array,
    from: Uint8Array,
  ): void {
    const self = this.indexIn(members, this.options.self.publicKey)
    if (self < 0 || this.stopped || this.watching.size >= this.options.config.watchedPackets) return
    // The origin does not fall silent on its own message; the relays above us might.
    const upstream = upstreamOf(header, self).filter((member) => member !== header.origin)
    const heard = new Set([this.indexIn(members, from)])
    if (upstream.every((member) => heard.has(member))) return
    this.watching.set(key, { header, members, bytes, self, upstream, heard })
    this.setTimer(this.options.config.repairAfterMs, () => this.repair(key))
  }

  /**
   * An upstream member sent nothing: it may have dropped out after receiving,
   * leaving those of its children whose other parent failed too without the
   * packet. Its first two children (deterministic, so no one else does it)
   * send it to all its children; the others drop the second copy.
   */
  private repair(key: string): void {
    const watch = this.watching.get(key)
    this.watching.delete(key)
    if (!watch || this.stopped) return
    for (const silent of watch.upstream) {
      if (watch.heard.has(silent)) continue
      const children = childrenOf(watch.header, silent)
      if (!children.slice(0, 2).includes(watch.self)) continue
      this.standIns++
      for (const child of children)
        if (child !== watch.self && !watch.heard.has(child)) this.hop(watch.members[child]!, watch.bytes)
    }
  }

  private originate(
    inner: Uint8Array,
    fields: {
      version: number
      members: readonly Uint8Array[]
      online: Uint8Array
      width: number
      messageId?: Uint8Array
      timestamp?: number
    },
  ): { messageId: Uint8Array; timestamp: number; packet: Uint8Array } {
    const messageId = fields.messageId ?? this.random(FANOUT_MESSAGE_ID_LENGTH)
    const timestamp = fields.timestamp ?? this.now()
    const packet = signFanoutPacket(
      {
        width: fields.width,
        groupId: this.options.groupId,
        messageId,
        timestamp,
        stateVersion: fields.version,
        memberCount: fields.members.length,
        online: fields.online,
        inner,
      },
      this.options.self,
      this.backend,
    )
    if (packet.length > this.options.config.maxPacketBytes)
      throw new FanoutError(
        'FANOUT_TOO_LARGE',
        `a packet of ${packet.length} bytes; at most ${this.options.config.maxPacketBytes} (groups.maxPacketBytes)`,
      )
    this.seen.add(joinKey(hex(this.options.self.publicKey), hex(messageId)))
    return { messageId, timestamp, packet }
  }

  private selfIndex(members: readonly Uint8Array[]): number {
    const self = this.indexIn(members, this.options.self.publicKey)
    if (self < 0) throw new FanoutError('FANOUT_NOT_MEMBER', 'this identity is not a member of the group')
    return self
  }

  /** `from` (authenticated by the messenger) forwarded us a packet: online, if it is a member at all. */
  private heardMember(from: Uint8Array): void {
    if (this.indexIn(this.options.membership.current().members, from) >= 0) this.options.presence.heard(from)
  }

  /** The position of `address` in a member list, −1 if absent; one index per list object. */
  private indexIn(members: readonly Uint8Array[], address: Uint8Array): number {
    let index = this.indexes.get(members)
    if (!index) {
      index = new Map(members.map((member, i) => [hex(member), i]))
      this.indexes.set(members, index)
    }
    return index.get(hex(address)) ?? -1
  }

  private hold(packet: FanoutPacket, from: Uint8Array | undefined): ReceiveOutcome {
    const { heldPackets } = this.options.config
    if (heldPackets === 0) return 'held'
    const version = packet.stateVersion
    const asked = this.held.some((held) => held.version === version)
    if (this.held.length >= heldPackets) this.held.shift()
    this.held.push({ bytes: packet.bytes, from, version })
    if (!asked) this.options.requestState(version, from)
    return 'held'
  }

  private hop(member: Uint8Array, packet: Uint8Array): void {
    this.run('group hop not sent', () => this.options.send(member, packet))
  }

  /** Runs a port call; a throw or a rejection is logged, never passed on (one member's failure stops no one). */
  private run(what: string, task: () => Promise<void> | void): void {
    try {
      const pending = task()
      if (pending) pending.catch((err: unknown) => this.options.log.debug({ err }, what))
    } catch (err) {
      this.options.log.debug({ err }, what)
    }
  }

  private refuse(outcome: ReceiveOutcome, err?: unknown): ReceiveOutcome {
    this.options.log.debug({ err, outcome }, 'group packet refused')
    return outcome
  }
}

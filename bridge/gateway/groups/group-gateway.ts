import type { GroupsConfig } from '../../config/sections/groups.js'
import { encodeAddress, parseAddress } from '../../crypto/address.js'
import type { CryptoBackend } from '../../crypto/backend.js'
import { defaultBackend } from '../../crypto/default-backend.js'
import type { Identity } from '../../crypto/identity.js'
import { ParanoimError } from '../../errors.js'
import type { Logger } from '../../log.js'
import { GroupError } from '../../messaging/groups/errors.js'
import { deleteGroupSeed, generateGroupKey, saveGroupSeed } from '../../messaging/groups/group-key.js'
import { GroupSession, type OpenedGroupMessage } from '../../messaging/groups/session.js'
import type { GroupState, StateChange } from '../../messaging/groups/state.js'
import type { InboundMessage } from '../../messaging/inbox.js'
import { type Store, StoreError } from '../../store/index.js'
import {
  controlGroup,
  decodeGroupControl,
  encodeGroupControl,
  type GroupControl,
  type JoinRefusal,
} from '../../wire/group-control.js'
import { decodeGroupHop, isGroupHop } from '../../wire/group-hop.js'
import type { OccupantPresence, OccupantRole } from '../../wire/group-message.js'
import { GROUP_LIMITS } from '../../wire/group-update.js'
import { realClock } from '../clock.js'
import { GatewayError } from '../errors.js'
import type { GatewayMessenger } from '../gateway.js'
import { Throttle } from '../presence-throttle.js'
import { AdmissionLimits, admissionVerdict } from './admission.js'
import { EarlyRoles } from './early-roles.js'
import type { GroupMailboxPort } from './mailbox-port.js'
import { GroupMember } from './member.js'
import { occupantPresence, PLAIN_PRESENCE, presenceChildren, samePresence } from './occupant-presence.js'
import { RoomOccupants } from './occupants.js'
import { OpenJoins } from './open-join.js'
import { PendingInvitations } from './pending-invitations.js'
import type { GroupRecordPort } from './record-port.js'
import { proposeChange } from './room-actions.js'
import { type MirrorContext, mirrorChanges, restoreRoom, showInvitation, showMessage } from './room-mirror.js'
import { RoomNames } from './room-names.js'
import { roomMessage, roomPayloadBytes } from './room-payload.js'
import type { RoomAction, RoomRemote } from './room-port.js'
import { RoomRecords } from './room-records.js'
import { roleChangeRefusal, roleIn } from './room-roles.js'
import { STALE_STATUS, StaleOccupants } from './stale-occupants.js'

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')
/** Group ids of the MUC effects already shown, so two local members of one group show each event once. */
const SHOWN_IDS = 10_000

export interface GroupIdentities {
  /** An identity unlocked on this bridge, by account. */
  identityOf(account: string): Identity | undefined
  accountOf(address: Uint8Array): string | undefined
  /** The address of a local account, unlocked or not (an invitee on this same bridge). */
  addressOfAccount(account: string): Promise<Uint8Array | undefined>
  /** Whether `address` is a contact of the account (as the one-to-one gateway decides who is a stranger). */
  isContact(account: string, address: Uint8Array): Promise<boolean>
}

export interface GroupGatewayOptions {
  config: GroupsConfig
  /** The XMPP domain (accounts `nick@domain`, network members `<address>@domain`). */
  domain: string
  /** messaging.maxMessageBytes: the largest pairwise body. */
  maxMessageBytes: number
  messenger: GatewayMessenger
  identities: GroupIdentities
  /** The MUC module's remote side (available once the XMPP server has started). */
  muc: () => RoomRemote
  store: Store
  log: Logger
  /** The group mailbox (the network's mailbox client); none without a network: offline members of large groups miss messages. */
  mailbox?: GroupMailboxPort
  /** Open rooms' rendezvous records (the DHT); none without a network: rooms are joined by invitation only. */
  records?: GroupRecordPort
  backend?: CryptoBackend
  now?: () => number
}

/**
 * The group gateway (docs/gateway.md "Groups"): joins the MUC service's rooms
 * to groups on the network. As the MUC module's network port it turns each
 * local room action into a signed state change or a group message, sent
 * before the room shows it (refusals from the signed state become the
 * client's XMPPError). As the receiver of group bodies (0x67) it hands them
 * to the right identity's group session and fan-out node, and shows what
 * arrives in the room through RoomRemote.
 */
export class GroupGateway {
  readonly rooms: RoomNames
  private readonly occupants = new RoomOccupants()
  private readonly members = new Map<string, GroupMember>()
  private readonly loading = new Map<string, Promise<GroupMember>>()
  private readonly shown = new Set<string>()
  /** Declines acted on, per inviter, decliner, group and state version: one each (a flood costs no signatures). */
  private readonly declines = new Set<string>()
  /** Invitations not shown yet: the member cannot take part before its epoch key is in. */
  private readonly invitations = new Map<GroupMember, Uint8Array>()
  /** Invitations from strangers not taken up yet: held groups are neither relayed nor synced. */
  private readonly pending: PendingInvitations
  /** The newest state version per group (hex) the room was brought to. */
  private readonly mirrored = new Map<string, number>()
  private readonly log: Logger
  private readonly backend: CryptoBackend
  private readonly now: () => number
  private readonly ready: Promise<void>
  /** Per identity (hex): its group sessions loaded (addIdentity). */
  private readonly added = new Map<string, Promise<void>>()
  private readonly syncTimer: NodeJS.Timeout | undefined
  /** Remote occupants whose bridge went quiet: shown leaving, and back when heard. */
  private readonly stale: StaleOccupants
  /** Local occupants' show/status changes, at most one per groups.occupantPresenceIntervalMs each. */
  private readonly presenceChanges: Throttle<{ member: GroupMember; presence: OccupantPresence }>
  /** Role bodies whose target's join is still on its way. */
  private readonly earlyRoles: EarlyRoles
  /** Local clients waiting to be let into open rooms this bridge holds nothing of. */
  private readonly openJoins: OpenJoins
  /** The door of the open rooms this bridge's owners and admins admit to. */
  private readonly limits: AdmissionLimits
  /** Join requests are answered one at a time (two for one newcomer must not both add it). */
  private admissions: Promise<void> = Promise.resolve()
  private readonly records: RoomRecords

  constructor(private readonly options: GroupGatewayOptions) {
    this.log = options.log.child({ c: 'groups' })
    this.backend = options.backend ?? defaultBackend
    this.now = options.now ?? Date.now
    const { config } = options
    this.openJoins = new OpenJoins({
      config,
      records: options.records,
      send: (from, to, body) => options.messenger.send(from, to, body, { reliable: false }),
      log: this.log,
      now: this.now,
    })
    this.limits = new AdmissionLimits(config, this.now)
    this.earlyRoles = new EarlyRoles(config.earlyRoleMs, this.now)
    this.records = new RoomRecords({
      port: options.records,
      store: options.store,
      backend: this.backend,
      admitters: config.recordAdmitters,
      log: this.log,
    })
    this.rooms = new RoomNames(options.store)
    this.pending = new PendingInvitations(options.store, {
      perIdentity: options.config.pendingInvitations,
      lifetimeMs: options.config.pendingInvitationMs,
    })
    this.ready = Promise.all([this.rooms.load(), this.pending.load()]).then(() => undefined)
    this.stale = new StaleOccupants(options.config.staleOccupantMs, (group, address) => {
      void this.showStale(group, address)
    })
    this.presenceChanges = new Throttle(
      { ...realClock, now: this.now },
      options.config.occupantPresenceIntervalMs,
      (_, { member, presence }) => {
        member
          .publish({ kind: 'presence', ...presence })
          .catch((err) => this.log.debug({ err }, 'occupant presence not sent'))
      },
    )
    options.messenger.on('heard', this.onHeard)
    options.messenger.on('unreachable', this.onUnreachable)
    if (options.mailbox)
      this.syncTimer = setInterval(() => void this.syncAll(), options.config.syncIntervalMs).unref()
  }

  /** Loads the group sessions of an identity just unlocked. */
  addIdentity(identity: Identity): Promise<void> {
    const key = hex(identity.publicKey)
    let added = this.added.get(key)
    if (!added) {
      added = this.loadIdentity(identity).catch((err: unknown) => {
        this.added.delete(key)
        throw err
      })
      this.added.set(key, added)
    }
    return added
  }

  private async loadIdentity(identity: Identity): Promise<void> {
    await this.ready
    for (const group of await GroupSession.groupsOf(this.options.store, identity.publicKey))
      this.stateMoved(await this.member(identity, group))
  }

  /** After any change of a state held here: the open room's record follows it (published, renewed or withdrawn). */
  private stateMoved(member: GroupMember): void {
    this.records
      .update(member)
      .catch((err: unknown) => this.log.warn({ err }, 'open room record not published'))
  }

  /**
   * An identity is reachable on the network: once its group sessions are
   * loaded, each fetches its group mailboxes for what was sent while it was
   * away. Resolves to how many messages were new; never rejects.
   */
  async catchUp(identity: Identity): Promise<number> {
    await this.addIdentity(identity).catch(() => undefined)
    let opened = 0
    for (const member of [...this.membersOf(identity.publicKey)]) opened += await this.sync(member, true)
    return opened
  }

  /** Every groups.syncIntervalMs: what the tree did not bring. */
  private async syncAll(): Promise<void> {
    for (const member of [...this.members.values()]) await this.sync(member)
  }

  /** `full`: everything the group mailboxes hold (on return), not only what came since the last sync. */
  private sync(member: GroupMember, full = false): Promise<number> {
    // A held invitation costs no mailbox fetches until it is taken up.
    if (this.isPending(member)) return Promise.resolve(0)
    return member.catchUp({ full }).catch((err: unknown) => {
      this.log.debug({ err }, 'group mailbox not fetched')
      return 0
    })
  }

  /**
   * Deletes epoch keys past their time and old dedupe entries of every
   * session, and drops the groups of invitations held past
   * groups.pendingInvitationMs (call it now and then).
   */
  async expire(): Promise<void> {
    await this.ready
    for (const invitation of this.pending.expired(this.now())) {
      const member = this.members.get(this.key(invitation.identity, invitation.group))
      // An identity that is locked keeps its invitation until it is unlocked again.
      if (member) await this.dropGroup(member)
    }
    for (const member of this.members.values()) await member.session.expire()
  }

  stop(): void {
    clearInterval(this.syncTimer)
    this.stale.stop()
    this.presenceChanges.stop()
    this.openJoins.stop()
    for (const member of this.members.values()) member.stop()
    this.members.clear()
    this.options.messenger.off('heard', this.onHeard)
    this.options.messenger.off('unreachable', this.onUnreachable)
  }

  // ---------- the MUC module's port: local actions → the network ----------

  /**
   * Before a local client enters a room (outside the room's queue, which the
   * answer needs): when the room is a group this identity holds nothing of —
   * an address-like room unknown here, or a network room of another local
   * member that is open — asks the room's owners and admins to be let in and
   * resolves once the chain and key are in and the room shows them. Resolves
   * at once for every other room; throws the client's error.
   */
  async locate(entry: { room: string; account: string; nick: string }): Promise<void> {
    await this.ready
    try {
      const known = this.rooms.groupOf(entry.room)
      const group = known ?? addressOf(entry.room)
      const identity = this.options.identities.identityOf(entry.account)
      if (!group || !identity) return
      await this.addIdentity(identity)
      if (this.members.get(this.key(identity.publicKey, group))?.state) return
      if (known && !this.strangerToOpenRoom(group, identity.publicKey)) return
      await this.openJoins.join(identity, group, entry.nick)
    } catch (err) {
      throw refusal(err)
    }
  }

  /**
   * Whether, by the state another local identity holds of `group`, `self` is
   * a stranger to an open room. A member (its chain may still be on its way
   * from the same bridge) and anyone the room refuses itself (members-only,
   * banned) are not: the room and propose() deal with them.
   */
  private strangerToOpenRoom(group: Uint8Array, self: Uint8Array): boolean {
    for (const member of this.members.values()) {
      const state = member.state
      if (hex(member.group) !== hex(group) || !state) continue
      return !state.config.membersOnly && !state.members.has(hex(self)) && !state.banned.has(hex(self))
    }
    return false
  }

  async propose(action: RoomAction): Promise<void> {
    await this.ready
    try {
      if (action.type === 'create') return await this.create(action)
      const group = this.rooms.groupOf(action.room)
      if (!group) return
      const member = await this.member(this.identityOf(action.account), group)
      if (action.type === 'decline') return await this.decline(member, action)
      // An account invited by another of this bridge hears of it first: its chain is still on its way.
      if (!member.state) await member.ready()
      this.checkMember(member)
      if (action.type === 'join') await this.accept(member)
      await this.act(member, group, action)
    } catch (err) {
      throw refusal(err)
    }
  }

  private async act(member: GroupMember, group: Uint8Array, action: RoomAction): Promise<void> {
    const self = member.identity.publicKey
    switch (action.type) {
      case 'join': {
        const presence = occupantPresence(action.presence)
        this.occupants.enter(group, self, action.nick, presence)
        return member.publish({ kind: 'join', nick: action.nick, presence })
      }
      case 'leave':
        this.occupants.leave(group, self)
        return member.publish({ kind: 'leave', status: action.status ?? '' })
      case 'nick':
        this.occupants.enter(group, self, action.newNick)
        return member.publish({ kind: 'nick', nick: action.newNick })
      case 'subject':
        return member.publish({ kind: 'subject', subject: action.subject })
      case 'presence':
        return this.presenceChanged(member, group, occupantPresence(action.presence))
      case 'private-message':
        return this.sendPrivate(member, group, action)
      case 'destroy':
        return this.destroy(member, action)
      case 'role':
        if (action.role !== 'none') return this.changeRole(member, group, action.target, action.role)
        return this.change(member, group, action)
      case 'message': {
        const payload = roomPayloadBytes(action.payload, (n) => this.backend.randomBytes(n))
        if (payload) await member.publish({ kind: 'message', payload })
        return
      }
      case 'create':
      case 'decline':
        return
      default:
        return this.change(member, group, action)
    }
  }

  /** A local occupant's new show/status goes to the group (throttled) when it differs from the last. */
  private presenceChanged(member: GroupMember, group: Uint8Array, presence: OccupantPresence): void {
    const self = member.identity.publicKey
    const known = this.occupants.get(group, self)
    if (!known || samePresence(known.presence, presence)) return
    this.occupants.setPresence(group, self, presence)
    this.presenceChanges.offer(this.key(self, group), { member, presence })
  }

  /**
   * A private message (XEP-0045 §7.5) to an occupant on another bridge: the
   * allow-listed payload as a pairwise body to that member, reliable as
   * one-to-one chat. Its bridge checks membership and shows it from our nick.
   */
  private async sendPrivate(
    member: GroupMember,
    group: Uint8Array,
    action: Extract<RoomAction, { type: 'private-message' }>,
  ): Promise<void> {
    if (this.occupants.nickOf(group, member.identity.publicKey) === undefined)
      throw new GatewayError('not-acceptable', 'you are not in this room')
    const to = addressOf(action.toAddress)
    if (!to || !member.isMember(to))
      throw new GatewayError('item-not-found', `${action.to} is not a member of this group`)
    const payload = roomPayloadBytes(action.payload, (n) => this.backend.randomBytes(n), 'chat')
    if (!payload) return
    const body = encodeGroupControl({ type: 'private', group, payload })
    if (body.length > this.options.maxMessageBytes)
      throw new GatewayError(
        'policy-violation',
        `a private message is at most ${this.options.maxMessageBytes} bytes`,
      )
    await this.send(member.identity.publicKey, to, body)
  }

  /** A change of the signed state (configuration, affiliations, invitations, kicks). */
  private async change(
    member: GroupMember,
    group: Uint8Array,
    action: Parameters<typeof proposeChange>[1],
  ): Promise<void> {
    const change = await proposeChange(member, action, {
      occupants: this.occupants,
      group,
      addressOfJid: (jid) => this.addressOfJid(jid),
    })
    if (!change) return
    await member.sendAll(change.sends)
    await this.afterLocalChange(member, action.room, change.change)
  }

  /**
   * Voice and moderator changes (XEP-0045 §8.4-8.6, §9.6-9.7) belong to the
   * occupant's presence, not to the membership: a role body, published like
   * any group message, which every member's bridge checks against the same
   * rules before its room shows it.
   */
  private async changeRole(
    member: GroupMember,
    group: Uint8Array,
    nick: string,
    role: OccupantRole,
  ): Promise<void> {
    const found = this.occupants.addressOf(group, nick)
    if (!found) throw new GatewayError('item-not-found', `${nick} is not in this room`)
    const target = new Uint8Array(Buffer.from(found, 'hex'))
    const why = roleChangeRefusal(member.state!, this.occupants, {
      actor: member.identity.publicKey,
      target,
      role,
    })
    if (why) throw new GatewayError('not-allowed', why)
    await member.publish({ kind: 'role', target, role })
    this.occupants.setRole(group, target, role)
  }

  /**
   * §10.9, by an owner: the terminal destroy update goes to every member
   * (reliable: an offline one finds it in its mailbox), then the group ends
   * here. The room destroys itself once this resolves.
   */
  private async destroy(
    member: GroupMember,
    action: Extract<RoomAction, { type: 'destroy' }>,
  ): Promise<void> {
    const reason = action.reason ?? ''
    const alternate = action.alternate ?? ''
    if (Buffer.byteLength(reason) > GROUP_LIMITS.destroyReason)
      throw new GatewayError(
        'not-acceptable',
        `a destroy reason is at most ${GROUP_LIMITS.destroyReason} bytes`,
      )
    if (Buffer.byteLength(alternate) > GROUP_LIMITS.alternateVenue)
      throw new GatewayError(
        'not-acceptable',
        `an alternate venue is at most ${GROUP_LIMITS.alternateVenue} bytes`,
      )
    const { sends } = await member.session.change([{ op: 'destroy', reason, alternate }])
    await member.sendAll(sends)
    await this.ended(member, action.room)
  }

  /** A destroyed group ends on this bridge: no keys, seed, fan-out, sync or room name; its terminal state stays. */
  private async ended(member: GroupMember, room: string): Promise<void> {
    this.stateMoved(member)
    member.stop()
    this.invitations.delete(member)
    this.occupants.clear(member.group)
    await deleteGroupSeed(this.options.store, member.identity.publicKey, member.group)
    await this.rooms.forget(room)
    this.log.info({ room }, 'group destroyed')
  }

  /** A new room made by a local client becomes a new group, with the client's identity as its owner. */
  private async create(action: Extract<RoomAction, { type: 'create' }>): Promise<void> {
    const identity = this.identityOf(action.account)
    const known = this.rooms.groupOf(action.room)
    if (known) return this.reopen(identity, action, known)
    const destroyed = this.destroyedGroup(identity, action.room)
    if (destroyed)
      throw new GatewayError(
        'item-not-found',
        `this group was destroyed${destroyed.reason ? `: ${destroyed.reason}` : ''}`,
      )
    if (isAddressLike(action.room))
      throw new GatewayError(
        'item-not-found',
        'no such group here: a group appears once a member invites you (create a room under a name of your own)',
      )
    const key = generateGroupKey(this.backend)
    const member = await this.member(identity, key.publicKey)
    const { config } = action
    await member.session.create(key, {
      name: config.name || action.room,
      description: config.description,
      membersOnly: config.membersOnly,
      mode: config.mode,
      nick: action.nick,
    })
    await saveGroupSeed(this.options.store, this.backend, identity, key)
    key.seed.fill(0)
    this.stateMoved(member)
    await this.rooms.remember(action.room, key.publicKey)
    this.occupants.enter(key.publicKey, identity.publicKey, action.nick)
    // The room outlives its last local occupant: the group does (queued behind the room's creation).
    void this.options
      .muc()
      .configure(action.room, { persistent: true })
      .catch((err) => this.log.warn({ err, room: action.room }, 'room not made persistent'))
    this.log.info({ room: action.room }, 'group created')
  }

  /** The destruction of the group a room named like an address was, when `identity` held it. */
  private destroyedGroup(identity: Identity, room: string) {
    const group = addressOf(room)
    return group && this.members.get(this.key(identity.publicKey, group))?.state?.destroyed
  }

  /**
   * The room of a group this bridge holds was gone here (a room emptied by
   * its last local occupant, before it was made persistent): it comes back
   * with the state's settings, and the member's entry is a join.
   */
  private async reopen(
    identity: Identity,
    action: Extract<RoomAction, { type: 'create' }>,
    group: Uint8Array,
  ): Promise<void> {
    const member = await this.member(identity, group)
    this.checkMember(member)
    await this.accept(member)
    this.occupants.enter(group, identity.publicKey, action.nick)
    await member.publish({ kind: 'join', nick: action.nick })
    this.restoreLater(action.room, member)
  }

  /** After the room made again for a group: persistent, with the state's settings and affiliations (queued behind the room's own work). */
  private restoreLater(room: string, member: GroupMember): void {
    const state = member.state
    if (!state) return
    void restoreRoom(this.mirror(), room, state).catch((err) =>
      this.log.warn({ err, room }, 'room settings not restored'),
    )
  }

  /** The room applies its own part of a local change; members it removed are no longer members here either. */
  private async afterLocalChange(member: GroupMember, room: string, change: StateChange): Promise<void> {
    this.forgetRoles(change)
    for (const address of change.removed) this.occupants.leave(change.state.group, address)
    this.stateMoved(member)
    await member.retry()
    if (change.removed.length === 0) return
    // Queued behind the action the room is applying now (never awaited here: the room waits for us).
    void mirrorChanges(this.mirror(), room, member.identity.publicKey, [
      { ...change, added: [], changed: [] },
    ]).catch((err) => this.log.debug({ err }, 'removal not mirrored'))
  }

  // ---------- group bodies from the messenger: the network → rooms ----------

  /** The messenger's deliver for group bodies (0x67). Bad or refused bodies are logged and dropped, never retried. */
  async deliver(message: InboundMessage): Promise<void> {
    await this.ready
    const account = this.options.identities.accountOf(message.to)
    const identity = account === undefined ? undefined : this.options.identities.identityOf(account)
    if (!identity || message.from.length !== 32) return
    try {
      if (isGroupHop(message.body)) {
        const packet = decodeGroupHop(message.body)
        const member = this.members.get(this.key(identity.publicKey, packet.subarray(2, 34)))
        // A destroyed group relays nothing (its node would still forward); nor does a held invitation:
        // its bridge is no forwarder of a stranger's group.
        if (member?.state?.destroyed) await this.refuseDestroyed(member, message.from, 'hop')
        else if (member && !this.isPending(member)) member.node.receive(message.from, packet)
        return
      }
      await this.control(identity, message.from, decodeGroupControl(message.body))
    } catch (err) {
      // A fault of this bridge (not of the body) is thrown: the messenger delivers it again later.
      if (!(err instanceof ParanoimError) || err instanceof StoreError) throw err
      this.log.debug({ err, code: err.code }, 'group body dropped')
    }
  }

  private async control(identity: Identity, from: Uint8Array, control: GroupControl): Promise<void> {
    const group = controlGroup(control)
    if (control.type === 'join-request') {
      const admission = this.admissions.then(() => this.admit(identity, from, group, control.nick))
      this.admissions = admission.catch(() => {})
      return admission
    }
    if (control.type === 'decline') return this.declined(identity, from, group, control.reason)
    if (control.type === 'join-refusal') {
      if (!this.openJoins.refused(identity.publicKey, group, from, control.reason))
        this.log.debug({ reason: control.reason }, 'join refusal nobody asked for: dropped')
      return
    }
    const known = this.members.get(this.key(identity.publicKey, group))
    // A group is taken up only from its chain (an invitation); anything else about an unknown group is dropped.
    if (!known && control.type !== 'updates') return
    const member = known ?? (await this.member(identity, group))
    if (member.state?.destroyed && control.type !== 'sync' && control.type !== 'updates')
      return this.refuseDestroyed(member, from, control.type)
    // Held: the state and key stay current (for the join); messages and syncs wait for the user to join.
    if (this.isPending(member) && (control.type === 'message' || control.type === 'sync')) return
    if (control.type === 'message') return member.open(control.message, from)
    try {
      const received = await member.session.receive(from, control)
      switch (received.type) {
        case 'state':
          await this.applyChanges(member, received.changes)
          break
        case 'key':
          if (received.result !== 'duplicate') await this.keyArrived(member)
          break
        case 'sync':
          await member.sendAll(received.replies.map((body) => ({ to: [from], body })))
          break
        case 'private':
          await this.showPrivate(member, from, received.payload)
          break
        case 'message':
          break
      }
    } catch (err) {
      const code = (err as { code?: string }).code
      if (code === 'STATE_GAP' || code === 'FUTURE_EPOCH')
        await member.sendAll([{ to: [from], body: member.session.syncRequest() }])
      else if (code === 'STATE_DESTROYED')
        this.log.info({ group: encodeAddress(group) }, 'an update after the destroy of a group refused')
      else throw err
    }
  }

  /**
   * Something other than the chain about a destroyed group (a message from a
   * member that has not heard yet): refused and logged; the sender is sent
   * the destroy update, so it ends the group too.
   */
  private async refuseDestroyed(member: GroupMember, from: Uint8Array, what: string): Promise<void> {
    this.log.info({ group: encodeAddress(member.group), what }, 'a body for a destroyed group refused')
    if (!member.isMember(from)) return
    const version = member.state!.version
    const replies = await member.session.syncReplies(from, version - 1)
    await member.sendAll(replies.map((body) => ({ to: [from], body })))
  }

  private async applyChanges(member: GroupMember, changes: StateChange[]): Promise<void> {
    if (changes.length === 0) return
    const group = changes[0]!.state.group
    const room = this.rooms.roomOf(group)
    const self = member.identity.publicKey
    const state = changes.at(-1)!.state
    for (const change of changes) this.forgetRoles(change)
    if (state.destroyed) return this.destroyedElsewhere(member, room, state.destroyed)
    const added = changes.find((c) => c.added.some((m) => hex(m.address) === hex(self)))
    // An invitation by an identity of this bridge was passed on by the room itself; an admission to an
    // open room the client is entering is no invitation (nor held: the user asked to join).
    const joining = this.openJoins.waiting(self, group)
    const inviter =
      added && !joining && this.options.identities.accountOf(added.signer) === undefined
        ? added.signer
        : undefined
    if (inviter && !(await this.hold(member, inviter))) return
    if (state.members.has(hex(self)) || this.rooms.groupOf(room)) {
      await this.rooms.remember(room, group)
      await mirrorChanges(this.mirror(), room, self, this.toMirror(changes))
    }
    if (inviter) this.invitations.set(member, inviter)
    member.presence.retain([...state.members.values()].map((m) => m.address))
    this.stateMoved(member)
    await this.keyArrived(member)
  }

  /** Another owner destroyed the group: the room shows it (§10.9) to its local occupants, then the group ends. */
  private async destroyedElsewhere(
    member: GroupMember,
    room: string,
    { reason, alternate }: { reason: string; alternate: string },
  ): Promise<void> {
    if (this.rooms.groupOf(room))
      await this.options
        .muc()
        .destroy(room, { ...(reason ? { reason } : {}), ...(alternate ? { alternate } : {}) })
        .catch((err: unknown) => this.log.debug({ err, room }, 'room already gone'))
    await this.ended(member, room)
  }

  /** The MUC gives an occupant whose affiliation changed that affiliation's role (§5.1.2): so do we. */
  private forgetRoles(change: StateChange): void {
    for (const m of change.changed) this.occupants.setRole(change.state.group, m.address, undefined)
  }

  /**
   * The changes the room has not seen: each version once (several local
   * members get the same change), and none signed here (the room applied
   * those when they were made).
   */
  private toMirror(changes: StateChange[]): StateChange[] {
    const group = hex(changes[0]!.state.group)
    const seen = this.mirrored.get(group) ?? 0
    this.mirrored.set(group, Math.max(seen, changes.at(-1)!.state.version))
    return changes.filter(
      (c) => c.state.version > seen && this.options.identities.accountOf(c.signer) === undefined,
    )
  }

  /** Messages waiting for a key or state go again; an invitation waiting for the key is shown. */
  private async keyArrived(member: GroupMember): Promise<void> {
    await member.retry()
    if (member.canSeal()) this.openJoins.admitted(member.identity.publicKey, member.group)
    const inviter = this.invitations.get(member)
    if (!inviter || !member.canSeal()) return
    this.invitations.delete(member)
    await showInvitation(this.mirror(), this.rooms.roomOf(member.group), member.identity.publicKey, inviter)
  }

  /** An opened message, in order: shown once in the room; a newcomer is told who is already in. */
  private async show(member: GroupMember, message: OpenedGroupMessage): Promise<void> {
    const { group, sender, body } = message
    // A local identity's own actions were shown by the room when it made them.
    if (this.options.identities.accountOf(sender) !== undefined) return
    const id = `${hex(group)}:${hex(sender)}:${hex(message.id)}`
    if (this.shown.has(id)) return
    this.shown.add(id)
    if (this.shown.size > SHOWN_IDS) this.shown.delete(this.shown.values().next().value!)
    const state = member.state
    if (!state || state.destroyed) return
    if (body.kind === 'join' || body.kind === 'leave') this.stale.forget(group, sender)
    else await this.comeBack(group, sender)
    if (
      (body.kind === 'message' || body.kind === 'subject') &&
      roleIn(state, this.occupants, sender) === 'visitor'
    ) {
      this.log.info(
        { group: encodeAddress(group), kind: body.kind },
        'a visitor has no voice: its message dropped',
      )
      return
    }
    if (body.kind === 'role') return this.roleArrived(state, message)
    if (body.kind === 'leave') {
      this.occupants.leave(group, sender)
      member.presence.gone(sender)
    }
    // The show/status of an occupant not in the room here is news to nobody.
    if (body.kind === 'presence' && !this.occupants.setPresence(group, sender, body)) return
    const fresh =
      (body.kind === 'join' &&
        this.occupants.enter(group, sender, body.nick, body.presence ?? PLAIN_PRESENCE)) ||
      (body.kind === 'nick' && this.occupants.enter(group, sender, body.nick))
    // A join of an occupant already in (a welcome crossing our own) changes nothing.
    if (body.kind === 'join' && !fresh) return
    await showMessage(this.mirror(), this.rooms.roomOf(group), message)
    if (body.kind !== 'join') return
    const early = this.earlyRoles.take(group, sender)
    if (early) await this.roleArrived(state, early)
    await this.welcome(group, sender)
  }

  /** A moderator's role change from elsewhere: applied and shown when the sender may make it, else dropped. */
  private async roleArrived(state: GroupState, message: OpenedGroupMessage): Promise<void> {
    const { group, sender, body } = message
    if (body.kind !== 'role') return
    if (this.occupants.nickOf(group, body.target) === undefined)
      return this.earlyRoles.hold(message, body.target)
    // Told again (a newcomer hears each role from every moderator's bridge): nothing new to show.
    if (this.occupants.roleOf(group, body.target) === body.role) return
    const why = roleChangeRefusal(state, this.occupants, {
      actor: sender,
      target: body.target,
      role: body.role,
    })
    if (why) {
      this.log.info({ group: encodeAddress(group), why }, 'a role change refused')
      return
    }
    this.occupants.setRole(group, body.target, body.role)
    await showMessage(this.mirror(), this.rooms.roomOf(group), message)
  }

  /** Every local occupant of the room tells a member who just came in that it is there; moderators, the roles given. */
  private async welcome(group: Uint8Array, newcomer: Uint8Array): Promise<void> {
    const members = [...this.members.values()].filter(
      (m) => hex(m.group) === hex(group) && m.isMember(newcomer),
    )
    for (const member of members) {
      const known = this.occupants.get(group, member.identity.publicKey)
      if (known === undefined) continue
      await member
        .tell(newcomer, { kind: 'join', nick: known.nick, presence: known.presence })
        .catch((err) => this.log.debug({ err }, 'welcome not sent'))
    }
    await this.tellRoles(group, newcomer, members)
  }

  /**
   * The voice and moderation moderators gave (docs/gateway.md "Roles for
   * newcomers"): each role in the room here, other than a participant's, is
   * told to the newcomer by one local member with the right to give it now —
   * a role body of its own, which the newcomer's bridge checks as any other.
   */
  private async tellRoles(group: Uint8Array, newcomer: Uint8Array, members: GroupMember[]): Promise<void> {
    const state = members[0]?.state
    for (const [address, role] of this.occupants.rolesIn(group)) {
      const affiliation = state?.members.get(address)?.affiliation
      const given = affiliation === 'owner' || affiliation === 'admin' ? 'moderator' : 'participant'
      if (role === given || address === hex(newcomer)) continue
      const target = new Uint8Array(Buffer.from(address, 'hex'))
      const teller = members.find(
        (m) =>
          m.state &&
          roleChangeRefusal(m.state, this.occupants, { actor: m.identity.publicKey, target, role }) ===
            undefined,
      )
      await teller
        ?.tell(newcomer, { kind: 'role', target, role })
        .catch((err) => this.log.debug({ err }, 'role not told'))
    }
  }

  /**
   * A private message from `from`, a member (the session checked), for the
   * local occupant of `member`: shown from the sender's nick, to each of the
   * recipient's sessions. Sender or recipient not in the room here: dropped.
   */
  private async showPrivate(member: GroupMember, from: Uint8Array, bytes: Uint8Array): Promise<void> {
    const group = member.group
    const sender = this.occupants.nickOf(group, from)
    const recipient = this.occupants.nickOf(group, member.identity.publicKey)
    if (sender === undefined || recipient === undefined) {
      this.log.debug({ sender, recipient }, 'private message dropped: sender or recipient not in the room')
      return
    }
    const { id, payload } = roomMessage(bytes)
    const message = { address: encodeAddress(from), id, stamp: this.now(), payload, to: recipient }
    await this.options
      .muc()
      .message(this.rooms.roomOf(group), message)
      .catch((err) => this.log.debug({ err }, 'private message not shown'))
  }

  // ---------- open rooms: the door ----------

  /**
   * A join request to one of our owners or admins (docs/gateway.md "Open
   * rooms"): admitted with no one asked, as a mediated invitation is — the
   * signed put, then the chain and key to the newcomer — or refused with a
   * reason; a member already in gets its chain again.
   */
  private async admit(identity: Identity, from: Uint8Array, group: Uint8Array, nick: string): Promise<void> {
    const member = this.members.get(this.key(identity.publicKey, group))
    const verdict = admissionVerdict(member?.state, identity.publicKey, from, this.options.config.maxMembers)
    if ('refuse' in verdict) return this.refuseJoin(identity, from, group, verdict.refuse)
    if (!member) return
    if (verdict.admit === 'member') {
      const replies = await member.session.syncReplies(from, 0)
      return member.sendAll(replies.map((body) => ({ to: [from], body })))
    }
    if (!this.limits.admit(group)) return this.refuseJoin(identity, from, group, 'rate-limited')
    const change = await member.session.change([{ op: 'put', address: from, affiliation: 'member', nick }])
    await member.sendAll(change.sends)
    this.log.info({ room: this.rooms.roomOf(group) }, 'newcomer admitted to an open room')
    await mirrorChanges(this.mirror(), this.rooms.roomOf(group), identity.publicKey, [change.change])
    this.stateMoved(member)
    await member.retry()
  }

  /** The refusal goes back at once (ephemeral), within groups.joinRefusalsPerMinute; beyond, nothing. */
  private async refuseJoin(
    identity: Identity,
    to: Uint8Array,
    group: Uint8Array,
    reason: JoinRefusal,
  ): Promise<void> {
    if (!this.limits.refuse())
      return this.log.debug({ reason }, 'join request dropped: refusals rate-limited')
    this.log.debug({ reason }, 'join request refused')
    const body = encodeGroupControl({ type: 'join-refusal', group, reason })
    await this.options.messenger
      .send(identity.publicKey, to, body, { reliable: false })
      .catch((err: unknown) => this.log.debug({ err }, 'join refusal not sent'))
  }

  // ---------- invitations from strangers ----------

  private isPending(member: GroupMember): boolean {
    return this.pending.isPending(member.identity.publicKey, member.group)
  }

  /**
   * An invitation signed by `inviter`: from a stranger (not a contact of the
   * invited account) it is held as pending, unless groups.acceptStrangerInvitations.
   * Held invitations beyond groups.pendingInvitations drop their groups, the
   * oldest first. Resolves to false when this very invitation did not fit.
   */
  private async hold(member: GroupMember, inviter: Uint8Array): Promise<boolean> {
    if (this.options.config.acceptStrangerInvitations) return true
    const self = member.identity.publicKey
    const account = this.options.identities.accountOf(self)
    if (account !== undefined && (await this.options.identities.isContact(account, inviter))) return true
    const dropped = await this.pending.add(self, member.group, inviter, this.now())
    this.log.info({ account }, 'group invitation from a stranger held until the room is joined')
    let kept = true
    for (const invitation of dropped) {
      const old = this.members.get(this.key(invitation.identity, invitation.group))
      if (old === member) kept = false
      if (old) await this.dropGroup(old)
    }
    return kept
  }

  /** The local user joined the room of a held invitation: the group is taken up, and what waited in its mailbox comes in. */
  private async accept(member: GroupMember): Promise<void> {
    if (!this.isPending(member)) return
    await this.pending.remove(member.identity.publicKey, member.group)
    this.log.info('held group invitation taken up')
    void this.sync(member)
  }

  /**
   * XEP-0045 §7.8.2 across bridges (docs/gateway.md "Declined invitations"):
   * a held invitation, or one from a contact while the user is a plain member
   * not in the room, is turned down — the inviter is sent a decline body, then
   * the group is forgotten here. Declining anything else (a room the user is
   * in, a group it is an owner or admin of) changes nothing.
   */
  private async decline(
    member: GroupMember,
    action: Extract<RoomAction, { type: 'decline' }>,
  ): Promise<void> {
    const self = member.identity.publicKey
    const reason = action.reason ?? ''
    if (Buffer.byteLength(reason) > GROUP_LIMITS.reason)
      throw new GatewayError('not-acceptable', `a decline reason is at most ${GROUP_LIMITS.reason} bytes`)
    const held = this.pending.inviterOf(self, member.group)
    if (!held && !this.mayDecline(member)) return
    const inviter = held ?? (await this.memberAt(member, action.to))
    if (inviter) {
      const body = encodeGroupControl({ type: 'decline', group: member.group, reason })
      await this.send(self, inviter, body).catch((err) => this.log.debug({ err }, 'decline not sent'))
    } else this.log.info('a declined invitation names no member as its inviter: nobody told')
    await this.dropGroup(member)
  }

  /** An invitation taken up (not held) is declined only by a plain member not in the room here. */
  private mayDecline(member: GroupMember): boolean {
    const self = member.identity.publicKey
    const state = member.state
    if (!state || state.destroyed || this.occupants.get(member.group, self)) return false
    return state.members.get(hex(self))?.affiliation === 'member'
  }

  /** The member a client names by JID (the inviter its decline is to), if it is one other than itself. */
  private async memberAt(member: GroupMember, jid: string): Promise<Uint8Array | undefined> {
    const address = await this.addressOfJid(jid).catch(() => undefined)
    const self = hex(member.identity.publicKey)
    return address && hex(address) !== self && member.isMember(address) ? address : undefined
  }

  /**
   * A member declined an invitation (docs/gateway.md "Declined invitations"):
   * acted on only when the decliner is a member not in the room here, once per
   * decliner and state version. The local client is shown the room's decline;
   * an owner or admin removes a plain member that said no (a new epoch: key
   * packages stop going to it).
   */
  private async declined(
    identity: Identity,
    from: Uint8Array,
    group: Uint8Array,
    reason: string,
  ): Promise<void> {
    const self = identity.publicKey
    const member = this.members.get(this.key(self, group))
    const state = member?.state
    if (!member || !state || state.destroyed || this.isPending(member) || !member.isMember(from))
      return this.log.debug('a decline from a non-member or about a group not held here: dropped')
    if (this.occupants.get(group, from))
      return this.log.debug('a decline from an occupant in the room: dropped')
    const once = `${this.key(self, group)}:${hex(from)}:${state.version}`
    if (this.declines.has(once)) return this.log.debug('a repeated decline: dropped')
    this.declines.add(once)
    if (this.declines.size > SHOWN_IDS) this.declines.delete(this.declines.values().next().value!)
    const room = this.rooms.roomOf(group)
    const account = this.options.identities.accountOf(self)
    // A decliner on this bridge: its room already passed the decline on to a local inviter.
    if (account !== undefined && this.options.identities.accountOf(from) === undefined)
      await this.options
        .muc()
        .decline(room, { account, from: encodeAddress(from), ...(reason ? { reason } : {}) })
        .catch((err) => this.log.debug({ err }, 'decline not shown'))
    const rights = state.members.get(hex(self))?.affiliation
    if ((rights !== 'owner' && rights !== 'admin') || state.members.get(hex(from))?.affiliation !== 'member')
      return
    const change = await member.session.change([{ op: 'remove', address: from }])
    // The decliner forgot the group: its removal would only bring the chain back to it.
    await member.sendAll(
      change.sends.map(({ to, body }) => ({ to: to.filter((a) => hex(a) !== hex(from)), body })),
    )
    this.log.info({ room }, 'a member that declined its invitation removed')
    await mirrorChanges(this.mirror(), room, self, [change.change])
    this.stateMoved(member)
    await member.retry()
  }

  /**
   * Forgets a group an identity never took up: its session (state, chain,
   * keys), and the room when no other local identity is a member.
   */
  private async dropGroup(member: GroupMember): Promise<void> {
    const { identity, group } = member
    this.members.delete(this.key(identity.publicKey, group))
    this.invitations.delete(member)
    member.stop()
    await member.session.forget()
    await this.pending.remove(identity.publicKey, group)
    if ([...this.members.values()].some((m) => hex(m.group) === hex(group))) return
    const room = this.rooms.roomOf(group)
    this.mirrored.delete(hex(group))
    await this.rooms.forget(room)
    // Queued behind the room's own work (a decline is being applied by the room now).
    void this.options
      .muc()
      .destroy(room, { reason: 'invitation declined or expired' })
      .catch((err) => this.log.debug({ err, room }, 'room of a dropped invitation not destroyed'))
  }

  // ---------- presence for the fan-out, and occupants whose bridge went quiet ----------

  private readonly onHeard = ({ from, to }: { from: Uint8Array; to: Uint8Array }) => {
    for (const member of this.membersOf(to)) {
      if (!member.isMember(from)) continue
      member.presence.heard(from)
      // Not shown back in yet: a bridge that restarted after a crash is heard before its clients
      // rejoin. A group message of the occupant (show() below) or its own join brings it back.
      this.stale.answered(member.group, from)
    }
  }

  private readonly onUnreachable = ({ from, to }: { from: Uint8Array; to: Uint8Array }) => {
    for (const member of this.membersOf(from)) {
      if (!member.isMember(to)) continue
      member.presence.gone(to)
      const remote = this.options.identities.accountOf(to) === undefined
      if (remote && this.occupants.get(member.group, to)) this.stale.suspect(member.group, to)
    }
  }

  /** A remote occupant unreachable for groups.staleOccupantMs more: shown leaving, kept to show again. */
  private async showStale(group: Uint8Array, address: Uint8Array): Promise<void> {
    const known = this.occupants.get(group, address)
    if (!known) return
    this.occupants.leave(group, address)
    this.stale.shownGone(group, address, known)
    await this.options
      .muc()
      .leave(this.rooms.roomOf(group), encodeAddress(address), STALE_STATUS)
      .catch((err) => this.log.debug({ err }, 'stale occupant not shown leaving'))
  }

  /** An occupant shown gone for its bridge's silence is heard again: back in, as it was. */
  private async comeBack(group: Uint8Array, address: Uint8Array): Promise<void> {
    const known = this.stale.heard(group, address)
    if (!known || !this.occupants.enter(group, address, known.nick, known.presence)) return
    const occupant = {
      address: encodeAddress(address),
      nick: known.nick,
      presence: presenceChildren(known.presence),
    }
    await this.options
      .muc()
      .join(this.rooms.roomOf(group), occupant)
      .catch((err) => this.log.debug({ err }, 'occupant back not shown'))
  }

  private *membersOf(identity: Uint8Array): Iterable<GroupMember> {
    const prefix = `${hex(identity)}:`
    for (const [key, member] of this.members) if (key.startsWith(prefix)) yield member
  }

  // ---------- plumbing ----------

  private key(identity: Uint8Array, group: Uint8Array): string {
    return `${hex(identity)}:${hex(group)}`
  }

  private checkMember(member: GroupMember): void {
    const self = hex(member.identity.publicKey)
    const state = member.state
    if (state?.members.has(self)) return
    if (state?.banned.has(self)) throw new GatewayError('forbidden', 'you are banned from this group')
    throw new GatewayError('registration-required', 'you are not a member of this group (any more)')
  }

  private identityOf(account: string): Identity {
    const identity = this.options.identities.identityOf(account)
    if (!identity)
      throw new GatewayError('not-authorized', 'your identity is locked on this bridge: log in again')
    return identity
  }

  /** The session and fan-out node of `identity` in `group`, loaded once. */
  private member(identity: Identity, group: Uint8Array): Promise<GroupMember> {
    const key = this.key(identity.publicKey, group)
    const existing = this.members.get(key)
    if (existing) return Promise.resolve(existing)
    let loading = this.loading.get(key)
    if (!loading) {
      loading = this.load(identity, group).finally(() => this.loading.delete(key))
      this.loading.set(key, loading)
    }
    return loading
  }

  private async load(identity: Identity, group: Uint8Array): Promise<GroupMember> {
    const { store, config, maxMessageBytes } = this.options
    const session = await GroupSession.load({
      store,
      local: identity,
      group,
      config,
      maxMessageBytes,
      backend: this.backend,
      now: this.now,
    })
    const member = new GroupMember({
      identity,
      group,
      session,
      config,
      log: this.log,
      now: this.now,
      mailbox: this.options.mailbox,
      send: (from, to, body) => this.send(from, to, body),
      show: (m, message) => this.show(m, message),
    })
    this.members.set(this.key(identity.publicKey, group), member)
    // A destroyed group stays held (its terminal state refuses any successor) but does nothing.
    if (session.state?.destroyed) member.stop()
    return member
  }

  private async send(from: Uint8Array, to: Uint8Array, body: Uint8Array): Promise<void> {
    await this.options.messenger.send(from, to, body, { reliable: true })
  }

  private async addressOfJid(jid: string): Promise<Uint8Array> {
    const [local = '', domain] = jid.split('@')
    if (domain !== this.options.domain)
      throw new GatewayError(
        'item-not-found',
        `${jid}: members are accounts or addresses of ${this.options.domain}`,
      )
    const account = await this.options.identities.addressOfAccount(local)
    if (account) return account
    const address = addressOf(local)
    if (!address)
      throw new GatewayError('item-not-found', `${jid} is neither an account here nor a network address`)
    return address
  }

  private mirror(): MirrorContext {
    return {
      muc: this.options.muc(),
      domain: this.options.domain,
      occupants: this.occupants,
      log: this.log,
      accountOf: (address) => this.options.identities.accountOf(address),
    }
  }
}

/** A room name shaped like a network address (a group this bridge does not hold, when it has no room). */
function isAddressLike(room: string): boolean {
  return addressOf(room) !== undefined
}

function addressOf(text: string): Uint8Array | undefined {
  try {
    return parseAddress(text)
  } catch {
    return undefined
  }
}

/** A refusal by the signed state becomes the client's stanza error; other faults stay what they are. */
function refusal(err: unknown): unknown {
  if (!(err instanceof GroupError)) return err
  switch (err.code) {
    case 'STATE_NOT_ALLOWED':
    case 'NOT_MEMBER':
    case 'BANNED':
      return new GatewayError('forbidden', err.message, { cause: err })
    case 'STATE_INVALID':
    case 'MESSAGE_TOO_LARGE':
    case 'HIGH_MODE_TOO_LARGE':
      return new GatewayError('not-acceptable', err.message, { cause: err })
    default:
      return new GatewayError('resource-constraint', err.message, { cause: err })
  }
}

import { clone, createElement, type Element, parse } from 'ltx'
import type { XmppConfig } from '../../../config/sections/xmpp.js'
import { XMPPError } from '../../errors.js'
import { JID } from '../../jid.js'
import type { ModuleContext } from '../../module.js'
import { delayElement } from '../../stanza.js'
import { defaultRoomConfig } from './config-form.js'
import type { MucAction, MucNetworkPort, MucRemote, RemoteOccupant } from './port.js'
import {
  type Affiliation,
  affiliations,
  defaultRole,
  type Occupant,
  type Role,
  Room,
  type RoomConfig,
  rank,
  roles,
} from './room.js'
import type { RoomStore } from './room-store.js'
import {
  itemElement,
  mucUser,
  NS_MUC,
  NS_MUC_USER,
  NS_OCCUPANT_ID,
  NS_SID,
  STATUS,
  statusMessage,
} from './xml.js'

/** A remote message older than this gets an XEP-0203 delay, so clients show when it was written. */
const DELAY_AFTER_MS = 10_000
export const MAX_SUBJECT = 1000

type Limits = XmppConfig['muc']

/** How an occupant's presence is announced: the status codes and what the item says. */
export interface Announcement {
  codes?: number[]
  /** Codes only the occupant's own sessions get (besides 110). */
  selfCodes?: number[]
  unavailable?: boolean
  actor?: string
  reason?: string
  /** The new nick (303). */
  nick?: string
  /** The leaving occupant's status text. */
  status?: string
  destroy?: Element
}

/** Presence children worth showing to the room: what the client said, without the MUC protocol's own elements. */
export function presencePayload(stanza: Element): Element[] {
  return stanza
    .getChildElements()
    .filter(
      (el) =>
        !(el.name === 'x' && (el.getNS() === NS_MUC || el.getNS() === NS_MUC_USER)) &&
        el.getNS() !== NS_OCCUPANT_ID,
    )
}

/**
 * The rooms of the MUC service and every change to them, shared by what local
 * clients do (checked, proposed to the network port, then applied here) and
 * what the network reports (MucRemote: applied directly).
 */
export class MucService implements MucRemote {
  readonly rooms = new Map<string, Room>()
  private readonly queues = new Map<string, Promise<unknown>>()

  constructor(
    readonly ctx: ModuleContext,
    /** `conference.<domain>`. */
    readonly domain: string,
    readonly limits: Limits,
    private readonly store: RoomStore,
    private readonly port: MucNetworkPort | undefined,
  ) {}

  async load(): Promise<void> {
    for (const room of await this.store.load((name) => this.roomJid(name))) this.rooms.set(room.name, room)
  }

  roomJid(name: string): string {
    return `${name}@${this.domain}`
  }

  /** Runs `fn` after everything already queued for the room: a room's changes never interleave. */
  serial<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.queues.get(name) ?? Promise.resolve()
    const run = previous.then(fn, fn)
    const tail = run.catch(() => {})
    this.queues.set(name, tail)
    void tail.then(() => {
      if (this.queues.get(name) === tail) this.queues.delete(name)
    })
    return run
  }

  async propose(action: MucAction): Promise<void> {
    if (this.port) await this.port.propose(action)
  }

  /** Lets the port bring a network room a local client is about to enter (MucNetworkPort.locate). */
  async locate(entry: { room: string; account: string; nick: string }): Promise<void> {
    if (this.port?.locate) await this.port.locate(entry)
  }

  room(name: string): Room {
    const room = this.rooms.get(name)
    if (!room) throw new XMPPError('item-not-found', `no room ${name}@${this.domain}`)
    return room
  }

  async persist(room: Room): Promise<void> {
    if (room.config.persistent) await this.store.save(room.name, room.state)
  }

  // ---- sending

  async send(stanza: Element): Promise<void> {
    try {
      await this.ctx.route(stanza)
    } catch (err) {
      if (!(err instanceof XMPPError)) throw err
      this.ctx.log.debug({ err, to: stanza.attrs.to }, 'MUC stanza undeliverable')
    }
  }

  /** Sends `build(fullJid)` to each session of each local occupant. */
  async toOccupants(room: Room, build: (viewer: Occupant, to: string) => Element): Promise<void> {
    for (const viewer of [...room.occupants.values()]) {
      if (viewer.account === undefined) continue
      for (const to of [...viewer.sessions.keys()]) {
        const stanza = build(viewer, to)
        stanza.attrs.to = to
        await this.send(stanza)
      }
    }
  }

  /** The presence of `occupant` as `viewer`'s session `to` sees it (§7.2.3, §7.2.4). */
  presence(room: Room, occupant: Occupant, viewer: Occupant, to: string, how: Announcement = {}): Element {
    const self = viewer === occupant
    const realJid = occupant.account === undefined ? occupant.bare : self ? to : firstSession(occupant)
    const codes = [...(how.codes ?? []), ...(self ? [...(how.selfCodes ?? []), STATUS.self] : [])]
    const x = mucUser(
      [
        itemElement({
          affiliation: room.affiliation(occupant.bare),
          role: how.unavailable ? 'none' : occupant.role,
          jid: self || room.seesJids(viewer) ? realJid : undefined,
          nick: how.nick,
          actor: how.actor,
          reason: how.reason,
        }),
        how.destroy ? clone(how.destroy) : null,
      ],
      codes,
    )
    return createElement(
      'presence',
      { from: `${room.jid}/${occupant.nick}`, type: how.unavailable ? 'unavailable' : undefined },
      ...(how.unavailable ? [] : latestPresence(occupant).map((el) => clone(el))),
      how.status !== undefined ? createElement('status', {}, how.status) : null,
      x,
      createElement('occupant-id', { xmlns: NS_OCCUPANT_ID, id: room.occupantId(occupant.bare) }),
    )
  }

  async announce(room: Room, occupant: Occupant, how: Announcement = {}): Promise<void> {
    await this.toOccupants(room, (viewer, to) => this.presence(room, occupant, viewer, to, how))
    // A removed occupant is no longer in the room but must hear of its own removal.
    if (room.occupants.get(occupant.nick) !== occupant) {
      for (const to of occupant.account === undefined ? [] : occupant.sessions.keys()) {
        const stanza = this.presence(room, occupant, occupant, to, how)
        stanza.attrs.to = to
        await this.send(stanza)
      }
    }
  }

  // ---- changes, whoever made them

  /** A new occupant: the room's presences to it, its presence to all, then history and subject to it (§7.2). */
  async enter(
    room: Room,
    occupant: Occupant,
    session: string | undefined,
    how: Announcement,
    history: Element | undefined,
  ) {
    room.occupants.set(occupant.nick, occupant)
    if (session) await this.welcome(room, occupant, session, history, false)
    await this.announce(room, occupant, how)
    if (session) await this.afterPresence(room, session, history)
  }

  /** The other occupants' presences for a new session; `withSelf` adds its own (a second session of one occupant). */
  async welcome(
    room: Room,
    occupant: Occupant,
    session: string,
    history: Element | undefined,
    withSelf: boolean,
  ) {
    for (const other of room.occupants.values()) {
      if (other === occupant) continue
      const stanza = this.presence(room, other, occupant, session)
      stanza.attrs.to = session
      await this.send(stanza)
    }
    if (!withSelf) return
    const own = this.presence(room, occupant, occupant, session, {
      selfCodes: room.config.whois === 'anyone' ? [STATUS.nonAnonymous] : [],
    })
    own.attrs.to = session
    await this.send(own)
    await this.afterPresence(room, session, history)
  }

  private async afterPresence(room: Room, session: string, history: Element | undefined) {
    for (const entry of selectHistory(room, history, this.ctx.now())) {
      const stanza = parse(entry.stanza)
      stanza.attrs.to = session
      // A message from the network that arrived late has its delay already.
      if (!stanza.getChild('delay')) stanza.cnode(delayElement(room.jid, entry.stamp))
      await this.send(stanza)
    }
    const subject = room.state.subject
    await this.send(
      createElement(
        'message',
        { type: 'groupchat', from: subject ? `${room.jid}/${subject.nick}` : room.jid, to: session },
        createElement('subject', {}, subject?.text ?? ''),
      ),
    )
  }

  /** Takes `occupant` out (leave, kick, ban…), tells everyone, and ends a temporary room left empty. */
  async exit(room: Room, occupant: Occupant, how: Announcement = {}): Promise<void> {
    if (room.occupants.get(occupant.nick) === occupant) room.occupants.delete(occupant.nick)
    await this.announce(room, occupant, { ...how, unavailable: true })
    if (room.occupants.size === 0 && !room.config.persistent) this.rooms.delete(room.name)
  }

  async renick(room: Room, occupant: Occupant, newNick: string): Promise<void> {
    await this.announce(room, occupant, { unavailable: true, nick: newNick, codes: [STATUS.nickChanged] })
    room.occupants.delete(occupant.nick)
    occupant.nick = newNick
    room.occupants.set(newNick, occupant)
    await this.announce(room, occupant)
  }

  /** A groupchat message (§7.4): every session gets it, the sender's too, with the room's stanza id. */
  async groupchat(
    room: Room,
    occupant: Occupant,
    message: { id: string; clientId?: string; stamp: number; payload: Element[] },
  ): Promise<void> {
    const stanza = createElement(
      'message',
      { type: 'groupchat', from: `${room.jid}/${occupant.nick}`, id: message.clientId ?? message.id },
      ...message.payload.map((el) => clone(el)),
      createElement('stanza-id', { xmlns: NS_SID, id: message.id, by: room.jid }),
      createElement('occupant-id', { xmlns: NS_OCCUPANT_ID, id: room.occupantId(occupant.bare) }),
    )
    if (this.ctx.now() - message.stamp > DELAY_AFTER_MS) stanza.cnode(delayElement(room.jid, message.stamp))
    if (stanza.getChild('body')) await this.remember(room, stanza, message.stamp)
    await this.toOccupants(room, () => clone(stanza))
  }

  private async remember(room: Room, stanza: Element, stamp: number): Promise<void> {
    const keep = this.limits.historyMessages
    if (keep === 0) return
    const entry = { stanza: stanza.toString(), stamp }
    room.history.push(entry)
    room.history.splice(0, Math.max(0, room.history.length - keep))
    if (room.config.persistent) await this.store.addHistory(room.name, entry, keep)
  }

  async setSubject(room: Room, nick: string, text: string, stamp: number): Promise<void> {
    room.state.subject = { text, nick, stamp }
    await this.persist(room)
    await this.toOccupants(room, () =>
      createElement(
        'message',
        { type: 'groupchat', from: `${room.jid}/${nick}` },
        createElement('subject', {}, text),
      ),
    )
  }

  /** §9, §10: the new affiliation, and what it does to the occupants with that real JID. */
  async setAffiliation(
    room: Room,
    bare: string,
    affiliation: Affiliation,
    by: { actor?: string; reason?: string },
  ): Promise<void> {
    room.setAffiliation(bare, affiliation)
    await this.persist(room)
    for (const occupant of room.occupantsOf(bare)) {
      if (affiliation === 'outcast') await this.exit(room, occupant, { ...by, codes: [STATUS.banned] })
      else if (room.config.membersOnly && rank(affiliation) < rank('member'))
        await this.exit(room, occupant, { ...by, codes: [STATUS.affiliationChange] })
      else {
        occupant.role = defaultRole(affiliation)
        await this.announce(room, occupant, by)
      }
    }
  }

  async setRole(room: Room, occupant: Occupant, role: Role, by: { actor?: string; reason?: string }) {
    if (role === 'none') return this.exit(room, occupant, { ...by, codes: [STATUS.kicked] })
    occupant.role = role
    await this.announce(room, occupant, by)
  }

  /** §10.2: the new configuration, with the status messages and removals it implies. */
  async reconfigure(room: Room, config: RoomConfig): Promise<void> {
    const before = room.config
    const initial = room.locked
    room.state.config = config
    room.locked = false
    if (config.persistent && !before.persistent) await this.store.saveAll(room)
    else if (config.persistent) await this.store.save(room.name, room.state)
    else if (before.persistent) await this.store.remove(room.name)
    if (config.membersOnly && !before.membersOnly) {
      for (const occupant of [...room.occupants.values()]) {
        if (rank(room.affiliation(occupant.bare)) < rank('member'))
          await this.exit(room, occupant, { codes: [STATUS.membersOnly] })
      }
    }
    // The first configuration unlocks the room (§10.1.2); later ones are announced (§10.2.1).
    const codes: number[] = [STATUS.configChanged]
    if (config.whois !== before.whois)
      codes.push(config.whois === 'anyone' ? STATUS.nowNonAnonymous : STATUS.nowSemiAnonymous)
    if (!initial) await this.toOccupants(room, () => statusMessage(room.jid, codes))
    if (room.occupants.size === 0 && !config.persistent) this.rooms.delete(room.name)
  }

  /** §10.9: everyone leaves with the reason (and an alternate room), and the room is gone. */
  async destroyRoom(room: Room, details: { reason?: string; alternate?: string } = {}): Promise<void> {
    const destroy = createElement(
      'destroy',
      { jid: details.alternate },
      details.reason !== undefined ? createElement('reason', {}, details.reason) : null,
    )
    this.rooms.delete(room.name)
    // Nobody is affiliated with a room that is gone: the item says affiliation none (§10.9, example 204).
    room.state.affiliations = {}
    for (const occupant of [...room.occupants.values()]) {
      room.occupants.delete(occupant.nick)
      await this.announce(room, occupant, { unavailable: true, destroy })
    }
    await this.store.remove(room.name)
  }

  // ---- limits and checks shared by both sides

  checkNick(nick: string): void {
    if ([...nick].length > this.limits.maxNickLength)
      throw new XMPPError('not-acceptable', `nicknames are at most ${this.limits.maxNickLength} characters`)
    if (nick.trim() === '') throw new XMPPError('jid-malformed', 'a nickname is not only spaces')
  }

  checkRoomFull(room: Room, bare: string): void {
    const max = Math.min(room.config.maxUsers, this.limits.maxOccupants)
    if (room.occupants.size >= max && rank(room.affiliation(bare)) < rank('admin'))
      throw new XMPPError('service-unavailable', `the room is full (${max} occupants)`, { type: 'wait' })
  }

  // ---- MucRemote: the network's events

  private remoteBare(address: string): string {
    const jid = JID.parse(`${address}@${this.ctx.domain}`)
    if (!/^[0-9a-z]+$/.test(jid.local)) throw new XMPPError('bad-request', 'an address is letters and digits')
    return jid.bareString
  }

  private remoteOccupant(room: Room, address: string): Occupant {
    const bare = this.remoteBare(address)
    const occupant = room.occupantsOf(bare).find((o) => o.account === undefined)
    if (!occupant) throw new XMPPError('item-not-found', `${address} is not in ${room.jid}`)
    return occupant
  }

  configure(name: string, config: Partial<RoomConfig>): Promise<void> {
    return this.serial(name, async () => {
      const room = this.rooms.get(name)
      if (room) return this.reconfigure(room, { ...room.config, ...config })
      if (JID.parse(this.roomJid(name)).local !== name)
        throw new XMPPError('jid-malformed', 'a room name is a lowercase JID localpart')
      const base = { ...defaultRoomConfig(this.limits), persistent: true }
      const created = Room.create(name, this.roomJid(name), { ...base, ...config }, undefined)
      this.rooms.set(name, created)
      await this.persist(created)
    })
  }

  join(name: string, remote: RemoteOccupant): Promise<void> {
    return this.serial(name, async () => {
      const room = this.room(name)
      const bare = this.remoteBare(remote.address)
      this.checkNick(remote.nick)
      if (room.occupants.has(remote.nick)) throw new XMPPError('conflict', `${remote.nick} is taken`)
      if (room.affiliation(bare) === 'outcast')
        throw new XMPPError('forbidden', `${remote.address} is banned`)
      const occupant: Occupant = {
        nick: remote.nick,
        bare,
        account: undefined,
        sessions: new Map([[remote.address, remote.presence ?? []]]),
        role: defaultRole(room.affiliation(bare)),
      }
      await this.enter(room, occupant, undefined, {}, undefined)
    })
  }

  leave(name: string, address: string, status?: string): Promise<void> {
    return this.serial(name, async () => {
      const room = this.room(name)
      await this.exit(room, this.remoteOccupant(room, address), { status })
    })
  }

  changePresence(name: string, address: string, presence: Element[]): Promise<void> {
    return this.serial(name, async () => {
      const room = this.room(name)
      const occupant = this.remoteOccupant(room, address)
      occupant.sessions.set(address, presence)
      await this.announce(room, occupant)
    })
  }

  changeNick(name: string, address: string, newNick: string): Promise<void> {
    return this.serial(name, async () => {
      const room = this.room(name)
      const occupant = this.remoteOccupant(room, address)
      this.checkNick(newNick)
      if (room.occupants.has(newNick)) throw new XMPPError('conflict', `${newNick} is taken`)
      await this.renick(room, occupant, newNick)
    })
  }

  message(
    name: string,
    message: { address: string; id: string; stamp: number; payload: Element[]; to?: string },
  ): Promise<void> {
    return this.serial(name, async () => {
      const room = this.room(name)
      const occupant = this.remoteOccupant(room, message.address)
      if (message.to === undefined) return this.groupchat(room, occupant, message)
      const target = room.occupants.get(message.to)
      if (!target || target.account === undefined)
        throw new XMPPError('item-not-found', `no local occupant ${message.to}`)
      const stanza = privateMessage(room, occupant.nick, message.payload, message.id)
      for (const to of target.sessions.keys()) await this.send(clone(stanza).attr('to', to))
    })
  }

  subject(name: string, change: { address: string; subject: string; stamp: number }): Promise<void> {
    return this.serial(name, async () => {
      const room = this.room(name)
      const occupant = this.remoteOccupant(room, change.address)
      await this.setSubject(room, occupant.nick, change.subject.slice(0, MAX_SUBJECT), change.stamp)
    })
  }

  affiliation(
    name: string,
    change: { actor: string; target: string; affiliation: Affiliation; reason?: string },
  ): Promise<void> {
    return this.serial(name, async () => {
      const room = this.room(name)
      if (!affiliations.includes(change.affiliation))
        throw new XMPPError('bad-request', 'unknown affiliation')
      const target = JID.parse(change.target).bare.bareString
      await this.setAffiliation(room, target, change.affiliation, {
        actor: actorNick(room, this.remoteBare(change.actor)),
        reason: change.reason,
      })
    })
  }

  role(name: string, change: { actor: string; nick: string; role: Role; reason?: string }): Promise<void> {
    return this.serial(name, async () => {
      const room = this.room(name)
      if (!roles.includes(change.role)) throw new XMPPError('bad-request', 'unknown role')
      const occupant = room.occupants.get(change.nick)
      if (!occupant) throw new XMPPError('item-not-found', `no occupant ${change.nick}`)
      await this.setRole(room, occupant, change.role, {
        actor: actorNick(room, this.remoteBare(change.actor)),
        reason: change.reason,
      })
    })
  }

  destroy(name: string, details?: { reason?: string; alternate?: string }): Promise<void> {
    return this.serial(name, async () => this.destroyRoom(this.room(name), details))
  }

  invite(name: string, invitation: { account: string; from: string; reason?: string }): Promise<void> {
    return this.serial(name, async () => {
      const room = this.room(name)
      const inviter = this.remoteBare(invitation.from)
      const to = JID.parse(`${invitation.account}@${this.ctx.domain}`).bareString
      await this.send(invitationMessage(room, { from: inviter, to, reason: invitation.reason }))
    })
  }

  decline(name: string, decline: { account: string; from: string; reason?: string }): Promise<void> {
    return this.serial(name, async () => {
      const room = this.room(name)
      const invitee = this.remoteBare(decline.from)
      const to = JID.parse(`${decline.account}@${this.ctx.domain}`).bareString
      await this.send(declineMessage(room, { from: invitee, to, reason: decline.reason }))
    })
  }
}

/** A declined invitation (§7.8.2) as the room passes it back to the inviter; `from` is the invitee. */
export function declineMessage(room: Room, decline: { from: string; to: string; reason?: string }): Element {
  const { reason } = decline
  return createElement(
    'message',
    { from: room.jid, to: decline.to },
    mucUser([
      createElement(
        'decline',
        { from: decline.from },
        reason !== undefined ? createElement('reason', {}, reason) : null,
      ),
    ]),
  )
}

/** A mediated invitation (§7.8.2) as the room passes it on; `byNick` names the inviter in the body. */
export function invitationMessage(
  room: Room,
  invite: { from: string; to: string; reason?: string; byNick?: string; id?: string },
): Element {
  const title = room.config.name || room.jid
  const { reason } = invite
  return createElement(
    'message',
    { from: room.jid, to: invite.to, id: invite.id },
    mucUser([
      createElement(
        'invite',
        { from: invite.from },
        reason !== undefined ? createElement('reason', {}, reason) : null,
      ),
    ]),
    createElement(
      'body',
      {},
      `${invite.byNick ?? invite.from} invites you to ${title}${reason ? `: ${reason}` : ''}`,
    ),
  )
}

function firstSession(occupant: Occupant): string {
  return occupant.sessions.keys().next().value ?? occupant.bare
}

/** The presence children of the occupant's most recently updated session (updates move to the end). */
function latestPresence(occupant: Occupant): Element[] {
  return [...occupant.sessions.values()].at(-1) ?? []
}

/** The nick an actor is known by in the room, if it is in it. */
function actorNick(room: Room, bare: string): string | undefined {
  return room.occupantsOf(bare)[0]?.nick
}

/** A private message between occupants (§7.5): from the sender's occupant JID, marked as MUC. */
export function privateMessage(room: Room, fromNick: string, payload: Element[], id?: string): Element {
  const stanza = createElement(
    'message',
    { type: 'chat', from: `${room.jid}/${fromNick}`, id },
    ...payload.map((el) => clone(el)),
  )
  if (!stanza.getChild('x', NS_MUC_USER)) stanza.cnode(mucUser([]))
  return stanza
}

function nonNegative(value: string | undefined): number | undefined {
  return value !== undefined && /^\d{1,9}$/.test(value) ? Number(value) : undefined
}

/** The history a joining session asked for (§7.2.15): maxstanzas, maxchars, seconds, since; bad values are ignored. */
export function selectHistory(room: Room, request: Element | undefined, now: number) {
  let entries = room.history.slice(Math.max(0, room.history.length - room.config.maxHistory))
  if (!request) return entries
  const maxStanzas = nonNegative(request.attrs.maxstanzas)
  if (maxStanzas !== undefined) entries = entries.slice(Math.max(0, entries.length - maxStanzas))
  const seconds = nonNegative(request.attrs.seconds)
  if (seconds !== undefined) entries = entries.filter((e) => e.stamp >= now - seconds * 1000)
  const since = request.attrs.since === undefined ? Number.NaN : Date.parse(request.attrs.since)
  if (!Number.isNaN(since)) entries = entries.filter((e) => e.stamp >= since)
  const maxChars = nonNegative(request.attrs.maxchars)
  if (maxChars !== undefined) {
    let total = 0
    let first = entries.length
    while (first > 0 && total + entries[first - 1]!.stanza.length <= maxChars) {
      total += entries[first - 1]!.stanza.length
      first--
    }
    entries = entries.slice(first)
  }
  return entries
}

import { randomUUID } from 'node:crypto'
import { clone, type Element } from 'ltx'
import { XMPPError } from '../../errors.js'
import { JID } from '../../jid.js'
import { defaultRoomConfig } from './config-form.js'
import { defaultRole, type Occupant, Room, rank } from './room.js'
import {
  declineMessage,
  invitationMessage,
  MAX_SUBJECT,
  type MucService,
  presencePayload,
  privateMessage,
} from './service.js'
import { NS_MUC, NS_MUC_USER, NS_OCCUPANT_ID, NS_SID, STATUS } from './xml.js'

/** Invitations one message may carry. */
const MAX_INVITES = 20

/**
 * What local clients send to rooms: presence (join, update, nick change,
 * leave) and messages (groupchat, subject, private, invitations). Each change
 * is checked against XEP-0045's rules, proposed to the network port, then applied.
 */
export class ClientStanzas {
  constructor(private readonly muc: MucService) {}

  private get now(): number {
    return this.muc.ctx.now()
  }

  // ---- presence

  async presence(from: JID, to: JID, stanza: Element): Promise<void> {
    const type = stanza.attrs.type
    if (to.local === '') return // presence to the service itself means nothing
    if (type === 'unavailable' || type === 'error') return this.leave(from, to.local, stanza)
    if (type !== undefined) return // subscriptions and probes do not apply to rooms
    if (to.resource === '') throw new XMPPError('jid-malformed', 'join a room as room@service/nick')
    if (!this.muc.rooms.get(to.local)?.occupantOfSession(from.toString())) {
      // An entry: the network may have to bring the room first, which needs the room's queue free.
      this.muc.checkNick(to.resource)
      await this.muc.locate({ room: to.local, account: from.local, nick: to.resource })
    }
    await this.muc.serial(to.local, async () => {
      const room = this.muc.rooms.get(to.local)
      const occupant = room?.occupantOfSession(from.toString())
      if (!room || !occupant) return this.join(from, to, stanza, room)
      if (occupant.nick !== to.resource) return this.changeNick(from, room, occupant, to.resource)
      const presence = presencePayload(stanza)
      await this.muc.propose({ type: 'presence', ...this.base(room, occupant, from), presence })
      occupant.sessions.delete(from.toString())
      occupant.sessions.set(from.toString(), presence)
      await this.muc.announce(room, occupant)
    })
  }

  private base(room: Room, occupant: Occupant | undefined, from: JID) {
    return { room: room.name, account: from.local, nick: occupant?.nick ?? '', stamp: this.now }
  }

  private async join(from: JID, to: JID, stanza: Element, existing: Room | undefined): Promise<void> {
    const nick = to.resource
    const bare = from.bare.toString()
    const mucX = stanza.getChild('x', NS_MUC)
    this.muc.checkNick(nick)
    const presence = presencePayload(stanza)
    const history = mucX?.getChild('history')
    if (!existing) return this.create(from, to.local, nick, presence, mucX !== undefined, history)
    const room = existing
    const same = room.occupants.get(nick)
    if (same && same.bare !== bare) throw new XMPPError('conflict', `${nick} is taken in this room`)
    room.checkEntry(bare)
    if (!same) this.muc.checkRoomFull(room, bare)
    await this.muc.propose({
      type: 'join',
      room: room.name,
      account: from.local,
      nick,
      stamp: this.now,
      presence,
    })
    if (same) {
      // Another resource of the same user takes the same nick (a multi-session nick): it joins that occupant.
      same.sessions.set(from.toString(), presence)
      return this.muc.welcome(room, same, from.toString(), history, true)
    }
    const occupant = newOccupant(nick, from, presence, defaultRole(room.affiliation(bare)))
    await this.muc.enter(room, occupant, from.toString(), this.selfCodes(room, false), history)
  }

  private selfCodes(room: Room, created: boolean) {
    const codes: number[] = []
    if (room.config.whois === 'anyone') codes.push(STATUS.nonAnonymous)
    if (created) codes.push(STATUS.created)
    return { selfCodes: codes }
  }

  /** §10.1: the first to enter creates the room and owns it; with `<x xmlns='muc'/>` it stays locked until configured. */
  private async create(
    from: JID,
    name: string,
    nick: string,
    presence: Element[],
    locked: boolean,
    history: Element | undefined,
  ): Promise<void> {
    const { limits } = this.muc
    const bare = from.bare.toString()
    if (this.muc.rooms.size >= limits.maxRooms)
      throw new XMPPError('resource-constraint', `this service has ${limits.maxRooms} rooms already`)
    const own = [...this.muc.rooms.values()].filter((r) => r.state.creator === bare).length
    if (own >= limits.maxRoomsPerAccount)
      throw new XMPPError('not-allowed', `you have created ${own} rooms already (the limit)`)
    const config = defaultRoomConfig(limits)
    await this.muc.propose({ type: 'create', room: name, account: from.local, nick, stamp: this.now, config })
    const room = Room.create(name, this.muc.roomJid(name), config, bare)
    room.locked = locked
    this.muc.rooms.set(name, room)
    const occupant = newOccupant(nick, from, presence, 'moderator')
    await this.muc.enter(room, occupant, from.toString(), this.selfCodes(room, true), history)
  }

  private async changeNick(from: JID, room: Room, occupant: Occupant, newNick: string): Promise<void> {
    this.muc.checkNick(newNick)
    if (room.occupants.has(newNick)) throw new XMPPError('conflict', `${newNick} is taken in this room`)
    await this.muc.propose({ type: 'nick', ...this.base(room, occupant, from), newNick })
    await this.muc.renick(room, occupant, newNick)
  }

  private leave(from: JID, name: string, stanza: Element): Promise<void> {
    return this.muc.serial(name, async () => {
      const room = this.muc.rooms.get(name)
      const occupant = room?.occupantOfSession(from.toString())
      if (!room || !occupant) return
      if (occupant.sessions.size > 1) {
        // One of several resources leaves: only it hears of it; the occupant stays.
        const own = this.muc.presence(room, occupant, occupant, from.toString(), { unavailable: true })
        occupant.sessions.delete(from.toString())
        return this.muc.send(own.attr('to', from.toString()))
      }
      const status = stanza.getChildText('status') ?? undefined
      await this.muc.propose({ type: 'leave', ...this.base(room, occupant, from), status })
      await this.muc.exit(room, occupant, { status })
    })
  }

  // ---- messages

  async message(from: JID, to: JID, stanza: Element): Promise<void> {
    const type = stanza.attrs.type ?? 'normal'
    if (type === 'error') return // an error about something the room relayed: nothing to do with it
    if (to.local === '') throw new XMPPError('service-unavailable', 'the MUC service takes no messages')
    await this.muc.serial(to.local, async () => {
      const room = this.muc.room(to.local)
      if (to.resource !== '') return this.privateMessage(from, room, to.resource, stanza)
      if (type === 'groupchat') return this.groupchat(from, room, stanza)
      const x = stanza.getChild('x', NS_MUC_USER)
      if (x?.getChild('invite')) return this.invite(from, room, x, stanza)
      if (x?.getChild('decline')) return this.decline(from, room, x)
      throw new XMPPError('bad-request', 'to a room: groupchat messages, invitations or declines')
    })
  }

  private occupant(room: Room, from: JID): Occupant {
    const occupant = room.occupantOfSession(from.toString())
    if (!occupant) throw new XMPPError('not-acceptable', `you are not in ${room.jid}`)
    return occupant
  }

  private checkSize(stanza: Element): void {
    const max = this.muc.limits.maxMessageBytes
    if (Buffer.byteLength(stanza.toString()) > max)
      throw new XMPPError('policy-violation', `messages to rooms are at most ${max} bytes`)
  }

  private async groupchat(from: JID, room: Room, stanza: Element): Promise<void> {
    const occupant = this.occupant(room, from)
    if (occupant.role === 'visitor') throw new XMPPError('forbidden', 'you have no voice in this room')
    this.checkSize(stanza)
    const subject = stanza.getChild('subject')
    if (subject && !stanza.getChild('body')) {
      if (!room.maySetSubject(occupant))
        throw new XMPPError('forbidden', 'only moderators may change the subject of this room')
      const text = subject.getText()
      if (text.length > MAX_SUBJECT)
        throw new XMPPError('not-acceptable', `a subject is at most ${MAX_SUBJECT} characters`)
      const stamp = this.now
      await this.muc.propose({ type: 'subject', ...this.base(room, occupant, from), subject: text })
      return this.muc.setSubject(room, occupant.nick, text, stamp)
    }
    // What the room stamps itself (stanza ids, occupant ids, delays) is never taken from the sender;
    // the client's own <origin-id/> stays: clients recognise their echo by it (XEP-0359 §3.1).
    const payload = stanza
      .getChildElements()
      .filter(
        (el) =>
          !(el.name === 'stanza-id' && el.getNS() === NS_SID) &&
          el.getNS() !== NS_OCCUPANT_ID &&
          el.name !== 'delay',
      )
    const message = { id: randomUUID(), clientId: stanza.attrs.id, stamp: this.now, payload }
    await this.muc.propose({ type: 'message', ...this.base(room, occupant, from), ...message })
    await this.muc.groupchat(room, occupant, message)
  }

  private async privateMessage(from: JID, room: Room, nick: string, stanza: Element): Promise<void> {
    if (stanza.attrs.type === 'groupchat')
      throw new XMPPError('bad-request', 'groupchat messages go to the room, not to an occupant')
    const occupant = this.occupant(room, from)
    const target = room.occupants.get(nick)
    if (!target) throw new XMPPError('item-not-found', `nobody is called ${nick} in this room`)
    this.checkSize(stanza)
    const payload = stanza.getChildElements()
    if (target.account === undefined) {
      const toAddress = target.bare.split('@')[0]!
      const action = {
        type: 'private-message',
        to: nick,
        toAddress,
        clientId: stanza.attrs.id,
        payload,
      } as const
      return this.muc.propose({ ...action, ...this.base(room, occupant, from) })
    }
    const message = privateMessage(room, occupant.nick, payload, stanza.attrs.id)
    for (const to of target.sessions.keys()) await this.muc.send(clone(message).attr('to', to))
  }

  /** §7.8.2: the room passes each invitation on; in a members-only room the invitee becomes a member. */
  private async invite(from: JID, room: Room, x: Element, stanza: Element): Promise<void> {
    const occupant = this.occupant(room, from)
    const invites = x.getChildren('invite')
    if (invites.length > MAX_INVITES)
      throw new XMPPError('policy-violation', `at most ${MAX_INVITES} invitations`)
    for (const invite of invites) {
      const invitee = JID.parse(invite.attrs.to ?? '')
      if (invitee.local === '') throw new XMPPError('jid-malformed', 'invite a user: to="user@domain"')
      const reason = invite.getChildText('reason') ?? undefined
      await this.admit(from, room, occupant, invitee.bareString, reason)
      await this.muc.ctx.route(
        invitationMessage(room, {
          from: occupant.bare,
          to: invitee.bareString,
          reason,
          byNick: occupant.nick,
          id: stanza.attrs.id,
        }),
      )
    }
  }

  /**
   * A XEP-0249 direct invitation an occupant sends to `invitee` for this room
   * (Conversations invites this way): the client's message goes out as it is,
   * and the room admits the invitee as a mediated invitation would — so a
   * network room signs the invitee in and its bridge shows the room. Refusals
   * (no right to invite) leave the message to go on alone.
   */
  async directInvite(from: JID, roomName: string, invitee: JID, reason: string | undefined): Promise<void> {
    await this.muc.serial(roomName, async () => {
      const room = this.muc.rooms.get(roomName)
      const occupant = room?.occupantOfSession(from.toString())
      if (!room || !occupant) return
      await this.admit(from, room, occupant, invitee.bareString, reason)
    })
  }

  /** Proposes the invitation to the network (which may refuse) and, in a members-only room, makes the invitee a member. */
  private async admit(
    from: JID,
    room: Room,
    occupant: Occupant,
    inviteeBare: string,
    reason: string | undefined,
  ): Promise<void> {
    const affiliation = room.affiliation(occupant.bare)
    if (!room.config.allowInvites && rank(affiliation) < rank('admin'))
      throw new XMPPError('forbidden', 'only admins may invite to this room')
    await this.muc.propose({
      type: 'invite',
      ...this.base(room, occupant, from),
      invitee: inviteeBare,
      reason,
    })
    if (room.config.membersOnly && rank(room.affiliation(inviteeBare)) < rank('member')) {
      room.setAffiliation(inviteeBare, 'member')
      await this.muc.persist(room)
    }
  }

  /** §7.8.2: a declined invitation goes back to the inviter, from the room. */
  private async decline(from: JID, room: Room, x: Element): Promise<void> {
    const decline = x.getChild('decline')!
    const inviter = JID.parse(decline.attrs.to ?? '')
    const reason = decline.getChildText('reason') ?? undefined
    // The network tells the inviter and forgets the group the user turned down (the decliner is no occupant: nick '').
    await this.muc.propose({
      type: 'decline',
      room: room.name,
      account: from.local,
      nick: '',
      stamp: this.now,
      to: inviter.bareString,
      reason,
    })
    await this.muc.ctx.route(
      declineMessage(room, { from: from.bare.toString(), to: inviter.bareString, reason }),
    )
  }
}

function newOccupant(nick: string, from: JID, presence: Element[], role: Occupant['role']): Occupant {
  return {
    nick,
    bare: from.bare.toString(),
    account: from.local,
    sessions: new Map([[from.toString(), presence]]),
    role,
  }
}

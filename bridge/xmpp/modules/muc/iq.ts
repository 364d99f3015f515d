import { createElement, type Element } from 'ltx'
import { XMPPError } from '../../errors.js'
import { JID } from '../../jid.js'
import { NS_DATA } from '../data-form.js'
import { NS_DISCO_INFO, NS_DISCO_ITEMS } from '../disco.js'
import { applyConfigForm, configForm, MODE_FIELD } from './config-form.js'
import { type Affiliation, affiliations, type Occupant, type Role, type Room, rank, roles } from './room.js'
import type { MucService } from './service.js'
import { NS_MUC, NS_MUC_ADMIN, NS_MUC_OWNER, NS_OCCUPANT_ID, NS_ROOMINFO, NS_SID } from './xml.js'

/** Items one muc#admin set may change at once. */
const MAX_ITEMS = 50

export const SERVICE_NAME = 'Chatrooms'

type Change =
  | { kind: 'role'; occupant: Occupant; role: Role; reason?: string }
  | { kind: 'affiliation'; bare: string; affiliation: Affiliation; reason?: string }

const field = (name: string, value: string, type?: string) =>
  createElement('field', { var: name, type }, createElement('value', {}, value))

/**
 * IQs to the service, to rooms (disco, muc#owner configuration and
 * destruction, muc#admin roles and affiliations). Returns the result payload, or throws the XMPPError to answer.
 */
export class MucIq {
  constructor(private readonly muc: MucService) {}

  async answer(from: JID, to: JID, stanza: Element): Promise<Element | undefined> {
    const children = stanza.getChildElements()
    if (children.length !== 1)
      throw new XMPPError('bad-request', 'an IQ get or set carries exactly one child')
    const payload = children[0]!
    const key = `${stanza.attrs.type} {${payload.getNS()}}${payload.getName()}`
    if (to.local === '') return this.toService(key)
    return this.muc.serial(to.local, () => this.toRoom(from, this.muc.room(to.local), key, payload))
  }

  private toService(key: string): Element {
    if (key === `get {${NS_DISCO_INFO}}query`)
      return createElement(
        'query',
        { xmlns: NS_DISCO_INFO },
        createElement('identity', { category: 'conference', type: 'text', name: SERVICE_NAME }),
        ...[NS_DISCO_INFO, NS_DISCO_ITEMS, NS_MUC, NS_OCCUPANT_ID].map((f) =>
          createElement('feature', { var: f }),
        ),
      )
    if (key === `get {${NS_DISCO_ITEMS}}query`) {
      const listed = [...this.muc.rooms.values()].filter((r) => r.config.public && !r.locked)
      return createElement(
        'query',
        { xmlns: NS_DISCO_ITEMS },
        ...listed.map((r) => createElement('item', { jid: r.jid, name: r.config.name || r.name })),
      )
    }
    throw new XMPPError('service-unavailable')
  }

  private async toRoom(from: JID, room: Room, key: string, payload: Element): Promise<Element | undefined> {
    const bare = from.bare.toString()
    const affiliation = room.affiliation(bare)
    if (room.locked && affiliation !== 'owner')
      throw new XMPPError('item-not-found', 'this room is being configured (locked)')
    switch (key) {
      case `get {${NS_DISCO_INFO}}query`:
        return this.roomInfo(room, payload.attrs.node)
      case `get {${NS_DISCO_ITEMS}}query`:
        return createElement('query', { xmlns: NS_DISCO_ITEMS })
      case `get {${NS_MUC_OWNER}}query`:
        if (payload.getChild('item')) return this.list(room, affiliation, payload, NS_MUC_OWNER)
        if (affiliation !== 'owner') throw new XMPPError('forbidden', 'only owners configure the room')
        return createElement('query', { xmlns: NS_MUC_OWNER }, configForm(room.config))
      case `set {${NS_MUC_OWNER}}query`:
        if (payload.getChild('item')) return this.change(from, room, payload)
        if (affiliation !== 'owner') throw new XMPPError('forbidden', 'only owners configure the room')
        return this.owner(from, room, payload)
      case `get {${NS_MUC_ADMIN}}query`:
        return this.list(room, affiliation, payload, NS_MUC_ADMIN)
      case `set {${NS_MUC_ADMIN}}query`:
        return this.change(from, room, payload)
      default:
        throw new XMPPError('service-unavailable')
    }
  }

  /** §6.4: the room's identity, features and muc#roominfo form (XEP-0128). */
  private roomInfo(room: Room, node: string | undefined): Element {
    if (node !== undefined) throw new XMPPError('item-not-found', `no node ${node}`)
    const c = room.config
    const features = [
      NS_MUC,
      NS_DISCO_INFO,
      NS_DISCO_ITEMS,
      NS_OCCUPANT_ID,
      NS_SID,
      c.persistent ? 'muc_persistent' : 'muc_temporary',
      c.public ? 'muc_public' : 'muc_hidden',
      c.membersOnly ? 'muc_membersonly' : 'muc_open',
      c.whois === 'anyone' ? 'muc_nonanonymous' : 'muc_semianonymous',
      'muc_unmoderated',
      'muc_unsecured',
    ]
    return createElement(
      'query',
      { xmlns: NS_DISCO_INFO },
      createElement('identity', { category: 'conference', type: 'text', name: c.name || room.name }),
      ...features.map((f) => createElement('feature', { var: f })),
      createElement(
        'x',
        { xmlns: NS_DATA, type: 'result' },
        field('FORM_TYPE', NS_ROOMINFO, 'hidden'),
        field('muc#roominfo_description', c.description),
        field('muc#roominfo_occupants', String(room.occupants.size)),
        field('muc#roominfo_subject', room.state.subject?.text ?? ''),
        field('muc#roominfo_subjectmod', c.changeSubject ? '1' : '0'),
        field('muc#maxhistoryfetch', String(c.maxHistory)),
        field(MODE_FIELD, c.mode),
      ),
    )
  }

  /** §10.2 (submit, cancel) and §10.9 (destroy). */
  private async owner(from: JID, room: Room, payload: Element): Promise<undefined> {
    const base = { room: room.name, account: from.local, nick: nickOf(room, from), stamp: this.muc.ctx.now() }
    const destroy = payload.getChild('destroy')
    if (destroy) {
      const alternate = destroy.attrs.jid === undefined ? undefined : JID.parse(destroy.attrs.jid).toString()
      const reason = destroy.getChildText('reason') ?? undefined
      await this.muc.propose({ type: 'destroy', ...base, reason, alternate })
      await this.muc.destroyRoom(room, { reason, alternate })
      return undefined
    }
    const form = payload.getChild('x', NS_DATA)
    if (!form) throw new XMPPError('bad-request', 'expected a jabber:x:data form or <destroy/>')
    if (form.attrs.type === 'cancel') {
      // §10.1.3: cancelling the initial configuration destroys the new room.
      if (room.locked) await this.muc.destroyRoom(room)
      return undefined
    }
    if (form.attrs.type !== 'submit') throw new XMPPError('bad-request', 'submit or cancel the form')
    const config = applyConfigForm(room.config, form, this.muc.limits)
    await this.muc.propose({ type: 'configure', ...base, config })
    await this.muc.reconfigure(room, config)
    return undefined
  }

  /** §9.5, §10.5…: the list of one affiliation (admins and owners) or one role (moderators). */
  private list(room: Room, affiliation: Affiliation, payload: Element, xmlns: string): Element {
    const items = payload.getChildren('item')
    if (items.length !== 1) throw new XMPPError('bad-request', 'ask for one affiliation or role')
    const wanted = items[0]!.attrs
    if (wanted.affiliation !== undefined) {
      const which = wanted.affiliation as Affiliation
      if (!affiliations.includes(which) || which === 'none')
        throw new XMPPError('bad-request', `no affiliation list ${wanted.affiliation}`)
      if (rank(affiliation) < rank('admin'))
        throw new XMPPError('forbidden', 'only admins see affiliation lists')
      return createElement(
        'query',
        { xmlns },
        ...room
          .withAffiliation(which)
          .map((bare) =>
            createElement('item', { affiliation: which, jid: bare, nick: room.occupantsOf(bare)[0]?.nick }),
          ),
      )
    }
    const role = wanted.role as Role
    if (!roles.includes(role) || role === 'none')
      throw new XMPPError('bad-request', 'ask for an affiliation or a role')
    if (rank(affiliation) < rank('admin')) throw new XMPPError('forbidden', 'only admins see role lists')
    return createElement(
      'query',
      { xmlns },
      ...[...room.occupants.values()]
        .filter((o) => o.role === role)
        .map((o) =>
          createElement('item', { role, nick: o.nick, jid: o.bare, affiliation: room.affiliation(o.bare) }),
        ),
    )
  }

  /** §8 and §9/§10: role and affiliation changes, all checked before any takes effect. */
  private async change(from: JID, room: Room, payload: Element): Promise<undefined> {
    const items = payload.getChildren('item')
    if (items.length === 0 || items.length > MAX_ITEMS)
      throw new XMPPError('bad-request', `change 1 to ${MAX_ITEMS} items`)
    const changes = items.map((item) => this.parseChange(room, item))
    for (const change of changes) this.allowed(from, room, change, changes)
    const base = { room: room.name, account: from.local, nick: nickOf(room, from), stamp: this.muc.ctx.now() }
    for (const change of changes) {
      const by = { actor: base.nick || undefined, reason: change.reason }
      if (change.kind === 'role') {
        await this.muc.propose({
          type: 'role',
          ...base,
          target: change.occupant.nick,
          role: change.role,
          reason: change.reason,
        })
        await this.muc.setRole(room, change.occupant, change.role, by)
      } else {
        const { bare, affiliation, reason } = change
        await this.muc.propose({ type: 'affiliation', ...base, target: bare, affiliation, reason })
        await this.muc.setAffiliation(room, bare, affiliation, by)
      }
    }
    return undefined
  }

  private parseChange(room: Room, item: Element): Change {
    const { role, affiliation, nick, jid } = item.attrs
    const reason = item.getChildText('reason') ?? undefined
    if ((role === undefined) === (affiliation === undefined))
      throw new XMPPError('bad-request', 'an item changes either a role or an affiliation')
    if (role !== undefined) {
      if (!(roles as readonly string[]).includes(role))
        throw new XMPPError('bad-request', `unknown role ${role}`)
      if (nick === undefined) throw new XMPPError('bad-request', 'a role change names the occupant by nick')
      const occupant = room.occupants.get(nick)
      if (!occupant) throw new XMPPError('item-not-found', `nobody is called ${nick} in this room`)
      return { kind: 'role', occupant, role: role as Role, reason }
    }
    if (!(affiliations as readonly string[]).includes(affiliation!))
      throw new XMPPError('bad-request', `unknown affiliation ${affiliation}`)
    let bare: string
    if (jid !== undefined) {
      const parsed = JID.parse(jid)
      if (parsed.local === '') throw new XMPPError('jid-malformed', 'affiliations are for users: user@domain')
      bare = parsed.bareString
    } else if (nick !== undefined) {
      const occupant = room.occupants.get(nick)
      if (!occupant) throw new XMPPError('item-not-found', `nobody is called ${nick} in this room`)
      bare = occupant.bare
    } else throw new XMPPError('bad-request', 'an affiliation change names a jid or a nick')
    return { kind: 'affiliation', bare, affiliation: affiliation as Affiliation, reason }
  }

  /** The permission rules of §5.2 (and Prosody's reading of them), as errors. */
  private allowed(from: JID, room: Room, change: Change, all: readonly Change[]): void {
    const actor = room.affiliation(from.bare.toString())
    if (change.kind === 'role') {
      const self = room.occupantOfSession(from.toString())
      if (self?.role !== 'moderator') throw new XMPPError('forbidden', 'only moderators change roles')
      const target = room.affiliation(change.occupant.bare)
      if (rank(target) >= rank('admin') && change.role !== 'moderator')
        throw new XMPPError('not-allowed', 'owners and admins cannot be kicked or silenced')
      if (
        (change.role === 'moderator' || change.occupant.role === 'moderator') &&
        rank(actor) < rank('admin')
      )
        throw new XMPPError('not-allowed', 'only admins grant or revoke moderation')
      return
    }
    if (rank(actor) < rank('admin'))
      throw new XMPPError('forbidden', 'only admins and owners change affiliations')
    const current = room.affiliation(change.bare)
    if (actor !== 'owner') {
      if (rank(change.affiliation) >= rank('admin'))
        throw new XMPPError('forbidden', 'only owners grant admin or owner')
      if (rank(current) >= rank('admin'))
        throw new XMPPError('not-allowed', "only owners change an admin's or owner's affiliation")
    }
    if (current === 'owner' && change.affiliation !== 'owner') {
      const owners = new Set(room.withAffiliation('owner'))
      for (const c of all)
        if (c.kind === 'affiliation') c.affiliation === 'owner' ? owners.add(c.bare) : owners.delete(c.bare)
      if (owners.size === 0) throw new XMPPError('conflict', 'a room keeps at least one owner')
    }
  }
}

function nickOf(room: Room, from: JID): string {
  return room.occupantOfSession(from.toString())?.nick ?? ''
}

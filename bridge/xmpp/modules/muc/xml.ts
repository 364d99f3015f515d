import { createElement, type Element } from 'ltx'

export const NS_MUC = 'http://jabber.org/protocol/muc'
export const NS_MUC_USER = 'http://jabber.org/protocol/muc#user'
/** XEP-0249 direct invitations. */
export const NS_CONFERENCE = 'jabber:x:conference'
export const NS_MUC_ADMIN = 'http://jabber.org/protocol/muc#admin'
export const NS_MUC_OWNER = 'http://jabber.org/protocol/muc#owner'
export const NS_ROOMCONFIG = 'http://jabber.org/protocol/muc#roomconfig'
export const NS_ROOMINFO = 'http://jabber.org/protocol/muc#roominfo'
export const NS_OCCUPANT_ID = 'urn:xmpp:occupant-id:0'
export const NS_SID = 'urn:xmpp:sid:0'
export const NS_PING = 'urn:xmpp:ping'

/** XEP-0045 §15.6 status codes this service sends. */
export const STATUS = {
  nonAnonymous: 100,
  configChanged: 104,
  self: 110,
  nowNonAnonymous: 172,
  nowSemiAnonymous: 173,
  created: 201,
  banned: 301,
  nickChanged: 303,
  kicked: 307,
  affiliationChange: 321,
  membersOnly: 322,
} as const

export interface ItemDetails {
  affiliation: string
  role: string
  jid?: string
  nick?: string
  /** The nick of the moderator who acted (kick, ban), if any. */
  actor?: string
  reason?: string
}

/** The muc#user `<item/>` of a presence (§7.2.3): affiliation, role, and what the recipient may see. */
export function itemElement(item: ItemDetails): Element {
  return createElement(
    'item',
    { affiliation: item.affiliation, role: item.role, jid: item.jid, nick: item.nick },
    item.actor !== undefined ? createElement('actor', { nick: item.actor }) : null,
    item.reason !== undefined ? createElement('reason', {}, item.reason) : null,
  )
}

/** `<x xmlns='muc#user'>` with the given children and status codes. */
export function mucUser(children: readonly (Element | null)[], codes: readonly number[] = []): Element {
  return createElement(
    'x',
    { xmlns: NS_MUC_USER },
    ...children,
    ...codes.map((code) => createElement('status', { code: String(code) })),
  )
}

/** A message from the room itself announcing status codes (§10.2.1: 104, 172, 173). */
export function statusMessage(room: string, codes: readonly number[]): Element {
  return createElement('message', { type: 'groupchat', from: room }, mucUser([], codes))
}

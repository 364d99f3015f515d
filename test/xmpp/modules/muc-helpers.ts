import { clone, type Element } from 'ltx'
import type { TestClient } from '../client.js'
import { canonical, xml } from './stanzas.js'

export const CONF = 'conference.paranoim.localhost'
export const MUC = 'http://jabber.org/protocol/muc'
export const MUC_USER = 'http://jabber.org/protocol/muc#user'
export const STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas'

/**
 * The canonical text of a stanza from a room, with what the room makes up
 * (occupant ids, stanza ids, delay stamps) replaced by placeholders after
 * checking they are there; the real values are checked where they matter.
 */
export function shape(el: Element): string {
  const copy = clone(el)
  for (const child of copy.getChildElements()) {
    if (child.name === 'occupant-id' && child.attrs.id) child.attrs.id = 'OID'
    if (child.name === 'stanza-id' && child.attrs.id) child.attrs.id = 'SID'
    if (child.name === 'delay' && child.attrs.stamp) child.attrs.stamp = 'STAMP'
  }
  return canonical(copy)
}

export const fromRoom = (room: string) => (el: Element) =>
  el.attrs.from === room || (el.attrs.from ?? '').startsWith(`${room}/`)

export const isSubject = (el: Element) =>
  el.name === 'message' && el.getChild('subject') !== undefined && !el.getChild('body')

/** Joins and returns what the room sent until the subject, which ends a join (§7.2.15), in order. */
export async function join(client: TestClient, occupantJid: string, extra = ''): Promise<Element[]> {
  await client.xmpp.send(xml`<presence to='${occupantJid}'><x xmlns='${MUC}'>${extra}</x></presence>`)
  const room = occupantJid.split('/')[0]!
  const subject = await client.next((el) => isSubject(el) && fromRoom(room)(el))
  const before = client.stanzas.splice(0)
  return [...before.filter(fromRoom(room)), subject]
}

/** The error condition of an error stanza. */
export function condition(el: Element): string | undefined {
  return el
    .getChild('error')
    ?.getChildElements()
    .find((c) => c.getNS() === STANZAS && c.name !== 'text')?.name
}

/** Waits for the next stanza from `from` (exact JID) that matches. */
export function nextFrom(client: TestClient, from: string, match: (el: Element) => boolean = () => true) {
  return client.next((el) => el.attrs.from === from && match(el))
}

export const statusCodes = (el: Element) =>
  (el.getChild('x', MUC_USER)?.getChildren('status') ?? []).map((s) => Number(s.attrs.code))

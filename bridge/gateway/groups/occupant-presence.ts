import { createElement, type Element } from 'ltx'
import { BODY_LIMITS, isPlainPresence, type OccupantPresence } from '../../wire/group-message.js'
import { readPresence } from '../allow-list.js'

/** Plain available, no status: an occupant that said nothing more. */
export const PLAIN_PRESENCE: OccupantPresence = { show: 'available', status: '' }

/**
 * An occupant's show and status as they cross the network (XEP-0045 §7.7.1),
 * read from the client's presence children through the allow-list: nothing
 * else of the client's presence (caps, priority, avatars) leaves the bridge.
 * A status over the group body's cap is cut at a character boundary.
 */
export function occupantPresence(children: Element[]): OccupantPresence {
  const read = readPresence(createElement('presence', {}, ...children), BODY_LIMITS.status)
  let status = read?.status ?? ''
  while (Buffer.byteLength(status) > BODY_LIMITS.status) status = [...status].slice(0, -1).join('')
  return { show: read?.show ?? 'available', status }
}

/** The presence children a room shows for a remote occupant (none when plain available). */
export function presenceChildren(presence: OccupantPresence | undefined): Element[] {
  if (!presence || isPlainPresence(presence)) return []
  return [
    presence.show === 'available' ? null : createElement('show', {}, presence.show),
    presence.status === '' ? null : createElement('status', {}, presence.status),
  ].filter((el): el is Element => el !== null)
}

export const samePresence = (a: OccupantPresence, b: OccupantPresence): boolean =>
  a.show === b.show && a.status === b.status

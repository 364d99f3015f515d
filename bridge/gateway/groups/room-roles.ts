import type { GroupState } from '../../messaging/groups/state.js'
import type { OccupantRole } from '../../wire/group-message.js'
import type { RoomOccupants } from './occupants.js'

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')

/** Owners and admins of the signed state: moderators wherever they are (XEP-0045 §5.1.2). */
function isAdmin(state: GroupState, address: Uint8Array): boolean {
  const affiliation = state.members.get(hex(address))?.affiliation
  return affiliation === 'owner' || affiliation === 'admin'
}

/** The role of an occupant: the one a moderator gave it, else its affiliation's (no moderated rooms: no visitors by default). */
export function roleIn(state: GroupState, occupants: RoomOccupants, address: Uint8Array): OccupantRole {
  if (isAdmin(state, address)) return 'moderator'
  return occupants.roleOf(state.group, address) ?? 'participant'
}

/**
 * Why `actor` may not give `target` the role `role` (XEP-0045 §5.2, §8.4-8.6,
 * §9.6-9.7), or undefined when it may: a moderator grants and revokes voice
 * of participants and visitors; only owners and admins grant and revoke
 * moderator; an owner's or admin's role never changes. The same rules the
 * MUC module applies to its local clients, here against the signed state, so
 * every member's bridge decides alike.
 */
export function roleChangeRefusal(
  state: GroupState,
  occupants: RoomOccupants,
  change: { actor: Uint8Array; target: Uint8Array; role: OccupantRole },
): string | undefined {
  const { actor, target, role } = change
  const group = state.group
  if (!state.members.has(hex(actor))) return 'the actor is not a member'
  // An owner or admin acts from anywhere; a moderator by grant only while it is in the room.
  const actorIn = isAdmin(state, actor) || occupants.nickOf(group, actor) !== undefined
  if (!actorIn || roleIn(state, occupants, actor) !== 'moderator') return 'only moderators change roles'
  if (occupants.nickOf(group, target) === undefined) return 'the target is not in the room'
  if (isAdmin(state, target) && role !== 'moderator') return 'owners and admins cannot be silenced'
  const current = roleIn(state, occupants, target)
  if ((role === 'moderator' || current === 'moderator') && !isAdmin(state, actor))
    return 'only owners and admins grant or revoke moderation'
  return undefined
}

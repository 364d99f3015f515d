import type { LocalChange } from '../../messaging/groups/session.js'
import type { GroupConfig } from '../../wire/group-state.js'
import type { GroupOp } from '../../wire/group-update.js'
import { GatewayError } from '../errors.js'
import type { GroupMember } from './member.js'
import type { RoomOccupants } from './occupants.js'
import type { RoomAction, RoomSettings } from './room-port.js'

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')

export interface ActionContext {
  group: Uint8Array
  occupants: RoomOccupants
  /** The address of a member named by its bare JID on this bridge; throws XMPPError item-not-found. */
  addressOfJid(jid: string): Promise<Uint8Array>
}

type ChangeAction = Extract<RoomAction, { type: 'configure' | 'invite' | 'affiliation' | 'role' }>

/**
 * The signed state change a room action of an owner or admin makes
 * (docs/gateway.md "Groups"), made and stored by the group session, or
 * undefined when the state already says so. A reason given goes with it. A
 * removal or a ban starts a new epoch. The session refuses what the signer
 * may not do (GroupError).
 */
export async function proposeChange(
  member: GroupMember,
  action: ChangeAction,
  ctx: ActionContext,
): Promise<LocalChange | undefined> {
  const ops = await opsOf(member, action, ctx)
  if (ops.length === 0) return undefined
  // The reason of a kick, ban or affiliation change travels with it, for the other members' rooms to show.
  if ((action.type === 'role' || action.type === 'affiliation') && action.reason)
    ops.push({ op: 'reason', reason: action.reason })
  const newEpoch = ops.some((op) => op.op === 'remove' || op.op === 'ban')
  return member.session.change(ops, { newEpoch })
}

async function opsOf(member: GroupMember, action: ChangeAction, ctx: ActionContext): Promise<GroupOp[]> {
  const state = member.state!
  switch (action.type) {
    case 'configure':
      return configOps(state.config, action.config)
    case 'invite': {
      const address = await ctx.addressOfJid(action.invitee)
      if (state.members.has(hex(address))) return []
      return [{ op: 'put', address, affiliation: 'member', nick: defaultNick(action.invitee) }]
    }
    case 'affiliation': {
      const address = await ctx.addressOfJid(action.target)
      const held = state.members.get(hex(address))
      switch (action.affiliation) {
        case 'none':
          return held ? [{ op: 'remove', address }] : []
        case 'outcast':
          return state.banned.has(hex(address)) ? [] : [{ op: 'ban', address }]
        default:
          if (held?.affiliation === action.affiliation) return []
          return [
            {
              op: 'put',
              address,
              affiliation: action.affiliation,
              nick: held?.nick ?? defaultNick(action.target),
            },
          ]
      }
    }
    case 'role': {
      // Only a kick (role none) changes the membership; voice and moderator are role bodies (group-gateway.ts).
      if (action.role !== 'none') return []
      const target = ctx.occupants.addressOf(ctx.group, action.target)
      if (!target) throw new GatewayError('item-not-found', `${action.target} is not a member in this room`)
      return [{ op: 'remove', address: new Uint8Array(Buffer.from(target, 'hex')) }]
    }
  }
}

/** The ops that bring the group's config to the room's (the fields the group state holds). */
export function configOps(current: GroupConfig, wanted: RoomSettings): GroupOp[] {
  const ops: GroupOp[] = []
  if (wanted.name !== current.name) ops.push({ op: 'name', name: wanted.name })
  if (wanted.description !== current.description)
    ops.push({ op: 'description', description: wanted.description })
  if (wanted.membersOnly !== current.membersOnly)
    ops.push({ op: 'membersOnly', membersOnly: wanted.membersOnly })
  if (wanted.mode !== current.mode) ops.push({ op: 'mode', mode: wanted.mode })
  return ops
}

/** A member's nick in the state until it joins under one: its JID's localpart, shortened. */
function defaultNick(jid: string): string {
  return (jid.split('@')[0] || 'member').slice(0, 32)
}

import { encodeAddress } from '../../crypto/address.js'
import type { Logger } from '../../log.js'
import type { OpenedGroupMessage } from '../../messaging/groups/session.js'
import type { GroupState, StateChange } from '../../messaging/groups/state.js'
import { presenceChildren } from './occupant-presence.js'
import type { RoomOccupants } from './occupants.js'
import { roomPayloadElements } from './room-payload.js'
import type { RoomAffiliation, RoomRemote, RoomSettings } from './room-port.js'

const equal = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b) === 0
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')
const unhex = (text: string) => new Uint8Array(Buffer.from(text, 'hex'))

export interface MirrorContext {
  muc: RoomRemote
  domain: string
  occupants: RoomOccupants
  log: Logger
  /** The local account of an address unlocked on this bridge. */
  accountOf(address: Uint8Array): string | undefined
}

/** A member's bare JID on this bridge: a local account's own, or `<address>@domain`. */
function memberJid(ctx: MirrorContext, address: Uint8Array): string {
  return `${ctx.accountOf(address) ?? encodeAddress(address).toLowerCase()}@${ctx.domain}`
}

/** A refusal of the room (a nick taken, an occupant already gone…) is logged: the state stays authoritative. */
async function attempt(ctx: MirrorContext, what: string, task: () => Promise<void>): Promise<void> {
  try {
    await task()
  } catch (err) {
    ctx.log.debug({ err, what }, 'room change not applied')
  }
}

/**
 * What signed state changes do to the room on this bridge (docs/gateway.md
 * "Groups"): the configuration and affiliations follow the state; a removed
 * member still in the room is kicked (307), a banned one banned (301), with
 * the update's reason. The room appears when `local` (the identity these
 * changes reached) is added, with the whole state's affiliations. Changes
 * before that are not shown.
 */
export async function mirrorChanges(
  ctx: MirrorContext,
  room: string,
  local: Uint8Array,
  changes: StateChange[],
): Promise<void> {
  for (const change of changes) {
    const { state } = change
    const actor = encodeAddress(change.signer)
    const why = change.reason ? { reason: change.reason } : {}
    const affiliate = (address: Uint8Array, affiliation: RoomAffiliation) =>
      attempt(ctx, 'affiliation', () =>
        ctx.muc.affiliation(room, { actor, target: memberJid(ctx, address), affiliation, ...why }),
      )
    if (change.added.some((m) => equal(m.address, local))) {
      await restoreRoom(ctx, room, state, actor)
      continue
    }
    const wasMember = change.removed.some((a) => equal(a, local))
    if (!state.members.has(hex(local)) && !wasMember) continue
    if (change.configChanged) await ctx.muc.configure(room, settingsOf(state))
    for (const member of [...change.added, ...change.changed])
      await affiliate(member.address, member.affiliation)
    const banned = new Set(change.banned.map(hex))
    for (const address of change.removed) {
      const nick = ctx.occupants.nickOf(state.group, address)
      ctx.occupants.leave(state.group, address)
      if (banned.has(hex(address))) continue
      if (nick !== undefined)
        await attempt(ctx, 'kick', () => ctx.muc.role(room, { actor, nick, role: 'none', ...why }))
      await affiliate(address, 'none')
    }
    for (const address of change.banned) await affiliate(address, 'outcast')
    for (const address of change.unbanned) await affiliate(address, 'none')
  }
}

/** Makes the room of `state` (or brings an existing one to it): persistent, its settings, every affiliation. */
export async function restoreRoom(
  ctx: MirrorContext,
  room: string,
  state: GroupState,
  actor = encodeAddress(state.group),
): Promise<void> {
  await ctx.muc.configure(room, { ...settingsOf(state), persistent: true })
  const affiliate = (target: Uint8Array, affiliation: RoomAffiliation) =>
    attempt(ctx, 'affiliation', () =>
      ctx.muc.affiliation(room, { actor, target: memberJid(ctx, target), affiliation }),
    )
  for (const member of state.members.values()) await affiliate(member.address, member.affiliation)
  for (const banned of state.banned) await affiliate(unhex(banned), 'outcast')
}

function settingsOf(state: GroupState): RoomSettings {
  const { name, description, membersOnly, mode } = state.config
  return { name, description, membersOnly, mode }
}

/** Shows `local`'s clients the invitation of the member who added it (when it can take part: its key is in). */
export async function showInvitation(
  ctx: MirrorContext,
  room: string,
  local: Uint8Array,
  inviter: Uint8Array,
): Promise<void> {
  const account = ctx.accountOf(local)
  if (account !== undefined)
    await attempt(ctx, 'invitation', () => ctx.muc.invite(room, { account, from: encodeAddress(inviter) }))
}

/** An opened group message as the room shows it: an occupant's join, leave, nick, presence, subject, role or message. */
export async function showMessage(
  ctx: MirrorContext,
  room: string,
  message: OpenedGroupMessage,
): Promise<void> {
  const address = encodeAddress(message.sender)
  const { body } = message
  switch (body.kind) {
    case 'join': {
      const presence = body.presence ? { presence: presenceChildren(body.presence) } : {}
      return attempt(ctx, 'join', () => ctx.muc.join(room, { address, nick: body.nick, ...presence }))
    }
    case 'presence':
      return attempt(ctx, 'presence', () => ctx.muc.changePresence(room, address, presenceChildren(body)))
    case 'leave':
      return attempt(ctx, 'leave', () => ctx.muc.leave(room, address, body.status || undefined))
    case 'nick':
      return attempt(ctx, 'nick', () => ctx.muc.changeNick(room, address, body.nick))
    case 'subject':
      return attempt(ctx, 'subject', () =>
        ctx.muc.subject(room, { address, subject: body.subject, stamp: message.timestamp }),
      )
    case 'role': {
      const nick = ctx.occupants.nickOf(message.group, body.target)
      if (nick === undefined) return
      return attempt(ctx, 'role', () => ctx.muc.role(room, { actor: address, nick, role: body.role }))
    }
    case 'message':
      return attempt(ctx, 'message', () =>
        ctx.muc.message(room, {
          address,
          id: Buffer.from(message.id).toString('hex'),
          stamp: message.timestamp,
          payload: roomPayloadElements(body.payload),
        }),
      )
  }
}

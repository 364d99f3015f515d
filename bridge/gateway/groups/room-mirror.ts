import { encodeAddress } from '../../crypto/address.js'
import type { Logger } from '../../log.js'
import type { OpenedGroupMessage } from '../../messaging/groups/session.js'
import type { StateChange } from '../../messaging/groups/state.js'
import type { RoomOccupants } from './occupants.js'
import { roomPayloadElements } from './room-payload.js'
import type { RoomRemote } from './room-port.js'

const equal = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b) === 0

export interface MirrorContext {
  muc: RoomRemote
  domain: string
  occupants: RoomOccupants
  log: Logger
  /** The local account of an address unlocked on this bridge. */
  accountOf(address: Uint8Array): string | undefined
}

/** A member's bare JID on this bridge: a local account's own, or `<address>@domain`. */
export function memberJid(ctx: MirrorContext, address: Uint8Array): string {
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
 * member still in the room is kicked (307), a banned one banned (301). When
 * `local` (the identity these changes reached) is added, the room appears
 * for it and its clients get the invitation.
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
    const selfAdded = change.added.some((m) => equal(m.address, local))
    if (selfAdded || change.configChanged)
      await ctx.muc.configure(room, {
        name: state.config.name,
        description: state.config.description,
        membersOnly: state.config.membersOnly,
        mode: state.config.mode,
      })
    for (const member of [...change.added, ...change.changed])
      await attempt(ctx, 'affiliation', () =>
        ctx.muc.affiliation(room, {
          actor,
          target: memberJid(ctx, member.address),
          affiliation: member.affiliation,
        }),
      )
    const banned = new Set(change.banned.map((a) => encodeAddress(a)))
    for (const address of change.removed) {
      const nick = ctx.occupants.nickOf(state.group, address)
      ctx.occupants.leave(state.group, address)
      if (banned.has(encodeAddress(address))) continue
      if (nick !== undefined)
        await attempt(ctx, 'kick', () => ctx.muc.role(room, { actor, nick, role: 'none' }))
      await attempt(ctx, 'removal', () =>
        ctx.muc.affiliation(room, { actor, target: memberJid(ctx, address), affiliation: 'none' }),
      )
    }
    for (const address of change.banned)
      await attempt(ctx, 'ban', () =>
        ctx.muc.affiliation(room, { actor, target: memberJid(ctx, address), affiliation: 'outcast' }),
      )
    for (const address of change.unbanned)
      await attempt(ctx, 'unban', () =>
        ctx.muc.affiliation(room, { actor, target: memberJid(ctx, address), affiliation: 'none' }),
      )
    const account = ctx.accountOf(local)
    if (selfAdded && account !== undefined && !equal(change.signer, local))
      await attempt(ctx, 'invitation', () => ctx.muc.invite(room, { account, from: actor }))
  }
}

/** An opened group message as the room shows it: an occupant's join, leave, nick, subject or message. */
export async function showMessage(
  ctx: MirrorContext,
  room: string,
  message: OpenedGroupMessage,
): Promise<void> {
  const address = encodeAddress(message.sender)
  const { body } = message
  switch (body.kind) {
    case 'join':
      return attempt(ctx, 'join', () => ctx.muc.join(room, { address, nick: body.nick }))
    case 'leave':
      return attempt(ctx, 'leave', () => ctx.muc.leave(room, address, body.status || undefined))
    case 'nick':
      return attempt(ctx, 'nick', () => ctx.muc.changeNick(room, address, body.nick))
    case 'subject':
      return attempt(ctx, 'subject', () =>
        ctx.muc.subject(room, { address, subject: body.subject, stamp: message.timestamp }),
      )
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

import type { Element } from 'ltx'

/**
 * The MUC service's network port as the group gateway sees it: the same
 * shapes as MucAction, MucNetworkPort and MucRemote of
 * bridge/xmpp/modules/muc/port.ts (the XMPP layer, above this one, so not
 * imported). The service passes the MUC module's objects through, and
 * TypeScript checks there that they fit.
 */
export type RoomAffiliation = 'owner' | 'admin' | 'member' | 'none' | 'outcast'
export type RoomRole = 'moderator' | 'participant' | 'visitor' | 'none'

/** The parts of a room's configuration a group state holds. */
export interface RoomSettings {
  name: string
  description: string
  membersOnly: boolean
  mode: 'normal' | 'high'
}

interface ActionBase {
  /** The room's localpart. */
  room: string
  /** The local account acting. */
  account: string
  nick: string
  stamp: number
}

export type RoomAction = ActionBase &
  (
    | { type: 'create'; config: RoomSettings }
    | { type: 'configure'; config: RoomSettings }
    | { type: 'join'; presence: Element[] }
    | { type: 'presence'; presence: Element[] }
    | { type: 'leave'; status?: string }
    | { type: 'nick'; newNick: string }
    | { type: 'message'; id: string; clientId?: string; payload: Element[] }
    | { type: 'private-message'; to: string; toAddress: string; clientId?: string; payload: Element[] }
    | { type: 'subject'; subject: string }
    | { type: 'affiliation'; target: string; affiliation: RoomAffiliation; reason?: string }
    | { type: 'role'; target: string; role: RoomRole; reason?: string }
    | { type: 'invite'; invitee: string; reason?: string }
    | { type: 'decline'; to: string; reason?: string }
    | { type: 'destroy'; reason?: string; alternate?: string }
  )

/** What the gateway calls to show the network's events in a room (each throws when the room cannot apply it). */
export interface RoomRemote {
  configure(room: string, config: Partial<RoomSettings & { persistent: boolean }>): Promise<void>
  join(room: string, occupant: { address: string; nick: string; presence?: Element[] }): Promise<void>
  leave(room: string, address: string, status?: string): Promise<void>
  changePresence(room: string, address: string, presence: Element[]): Promise<void>
  changeNick(room: string, address: string, newNick: string): Promise<void>
  message(
    room: string,
    message: { address: string; id: string; stamp: number; payload: Element[]; to?: string },
  ): Promise<void>
  subject(room: string, change: { address: string; subject: string; stamp: number }): Promise<void>
  affiliation(
    room: string,
    change: { actor: string; target: string; affiliation: RoomAffiliation; reason?: string },
  ): Promise<void>
  role(room: string, change: { actor: string; nick: string; role: RoomRole; reason?: string }): Promise<void>
  /** §10.9: every local occupant leaves with the destroy (reason, alternate venue) and the room is gone. */
  destroy(room: string, details?: { reason?: string; alternate?: string }): Promise<void>
  invite(room: string, invitation: { account: string; from: string; reason?: string }): Promise<void>
  /** §7.8.2: the local inviter `account` is shown that the member at `from` declined. */
  decline(room: string, decline: { account: string; from: string; reason?: string }): Promise<void>
}

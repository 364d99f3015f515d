import type { Element } from 'ltx'
import type { Affiliation, Role, RoomConfig } from './room.js'

/**
 * The network port of the MUC service: how a group that lives on the network
 * (the gateway's part, issue 9) drives a room of this service.
 *
 * Outgoing — every local action that changes a room is proposed to the port
 * BEFORE it takes effect: `propose(action)` resolves to let it happen, or throws
 * an XMPPError (e.g. `forbidden` when the signed membership says no), which the
 * client gets as the stanza error. Each action names the room (its JID's
 * localpart: the group address lowercased for a network room), the local
 * account acting, its nick, and what the network needs to carry it (payload
 * elements, the stanza id this service gave the message, the timestamp). The
 * module has checked XEP-0045's own rules first (permissions, limits), so the
 * port sees only actions the room would accept. Rooms the port does not know
 * are local-only: it simply resolves.
 *
 * Incoming — the gateway applies what happened elsewhere through `MucRemote`
 * (the module's `remote`): remote occupants (a network address + nick, real
 * JID `<address>@<domain>`) join, leave, change nick, send messages (with their
 * original timestamp: a delay is added when old) and subjects, change
 * affiliations and roles (kick, ban), reconfigure or destroy the room. These
 * are shown to local occupants as XEP-0045 presences and messages; the port is
 * not asked about them.
 *
 * Without a port every room is local-only.
 */
export interface MucNetworkPort {
  propose(action: MucAction): Promise<void>
  /**
   * Called before a local client enters a room, outside the room's queue:
   * the port may bring a room this service does not have yet (an open network
   * room joined by its address) through MucRemote, and resolves once it is
   * there — or throws the XMPPError the client gets (item-not-found,
   * registration-required, forbidden, …). For any other room it resolves at once.
   */
  locate?(entry: { room: string; account: string; nick: string }): Promise<void>
}

interface ActionBase {
  /** The room's localpart. */
  room: string
  /** The local account acting. */
  account: string
  /** Its nick in the room (for create and join: the nick it asks for; '' for an owner acting from outside). */
  nick: string
  stamp: number
}

export type MucAction = ActionBase &
  (
    | { type: 'create'; config: RoomConfig }
    | { type: 'configure'; config: RoomConfig }
    /** `presence`: the client's presence children (show, status, caps…), without the MUC elements. */
    | { type: 'join'; presence: Element[] }
    | { type: 'presence'; presence: Element[] }
    | { type: 'leave'; status?: string }
    | { type: 'nick'; newNick: string }
    /** `id`: the room's stanza id (XEP-0359); `clientId`: the id the client gave; `payload`: body etc. */
    | { type: 'message'; id: string; clientId?: string; payload: Element[] }
    /** A private message to a REMOTE occupant (local ones never leave the bridge). */
    | { type: 'private-message'; to: string; toAddress: string; clientId?: string; payload: Element[] }
    | { type: 'subject'; subject: string }
    /** `target`: the bare JID (`<account>@<domain>` or `<address>@<domain>`). */
    | { type: 'affiliation'; target: string; affiliation: Affiliation; reason?: string }
    /** `target`: the occupant's nick (role 'none' is a kick). */
    | { type: 'role'; target: string; role: Role; reason?: string }
    /** A mediated invitation; in a members-only room it makes the invitee a member. */
    | { type: 'invite'; invitee: string; reason?: string }
    /** XEP-0045 §7.8.2: the account declines an invitation to the room (`to`: the inviter's bare JID). */
    | { type: 'decline'; to: string; reason?: string }
    | { type: 'destroy'; reason?: string; alternate?: string }
  )

/** A remote occupant: its network address (hex, as `encodeAddress` gives it) and nick. */
export interface RemoteOccupant {
  address: string
  nick: string
  /** Presence children (show, status) to show; none means plain available. */
  presence?: Element[]
}

/** What the gateway calls to apply the network's events to a room; each throws XMPPError when it cannot apply. */
export interface MucRemote {
  /** Creates the room (persistent, unlocked) or replaces parts of its configuration. */
  configure(room: string, config: Partial<RoomConfig>): Promise<void>
  join(room: string, occupant: RemoteOccupant): Promise<void>
  leave(room: string, address: string, status?: string): Promise<void>
  /** A remote occupant's presence changed (§7.7.1): `presence` are its new children (show, status). */
  changePresence(room: string, address: string, presence: Element[]): Promise<void>
  changeNick(room: string, address: string, newNick: string): Promise<void>
  /** A groupchat message, or a private message to a local occupant when `to` (a nick) is set. */
  message(
    room: string,
    message: { address: string; id: string; stamp: number; payload: Element[]; to?: string },
  ): Promise<void>
  subject(room: string, change: { address: string; subject: string; stamp: number }): Promise<void>
  /** `target` is a bare JID; `actor` the address of the admin who changed it. */
  affiliation(
    room: string,
    change: { actor: string; target: string; affiliation: Affiliation; reason?: string },
  ): Promise<void>
  /** A role change (role 'none' = kick) of the occupant with `nick`. */
  role(room: string, change: { actor: string; nick: string; role: Role; reason?: string }): Promise<void>
  destroy(room: string, details?: { reason?: string; alternate?: string }): Promise<void>
  /** Shows the local `account` a mediated invitation (§7.8.2) from the room; `from` is the inviter's address. */
  invite(room: string, invitation: { account: string; from: string; reason?: string }): Promise<void>
  /** Shows the local inviter `account` that the network member `from` declined its invitation (§7.8.2), from the room. */
  decline(room: string, decline: { account: string; from: string; reason?: string }): Promise<void>
}

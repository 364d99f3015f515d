import type { OccupantPresence, OccupantRole } from '../../wire/group-message.js'
import { PLAIN_PRESENCE } from './occupant-presence.js'

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')

/** One occupant as the gateway knows it: its nick, the show/status it last announced, and any role a moderator gave. */
export interface KnownOccupant {
  nick: string
  presence: OccupantPresence
  /** A role a moderator gave (XEP-0045 §8.4-8.6, §9.6-9.7); none: the affiliation's default. */
  role?: OccupantRole
}

/**
 * Who this bridge believes is in each network room, local and remote, with the
 * nick each uses there, its presence and any role a moderator gave it: what a
 * kick names (the MUC kicks by nick), who is new when a join arrives (it is
 * then told who is already in, with their presence), whom a private message is
 * for, and whose messages are dropped (a visitor's). A role belongs to the
 * occupant's presence in the room (XEP-0045): it goes when the occupant leaves.
 * Memory only: a restarted bridge learns the room again from joins.
 */
export class RoomOccupants {
  private readonly rooms = new Map<string, Map<string, KnownOccupant>>()

  private room(group: Uint8Array): Map<string, KnownOccupant> {
    const key = hex(group)
    const room = this.rooms.get(key) ?? new Map<string, KnownOccupant>()
    this.rooms.set(key, room)
    return room
  }

  /** Records `address` in the room as `nick` (its presence and role kept, or `presence`); true when it was not in before. */
  enter(group: Uint8Array, address: Uint8Array, nick: string, presence?: OccupantPresence): boolean {
    const room = this.room(group)
    const known = room.get(hex(address))
    if (known) {
      known.nick = nick
      if (presence) known.presence = presence
    } else room.set(hex(address), { nick, presence: presence ?? PLAIN_PRESENCE })
    return known === undefined
  }

  /** A new show/status of an occupant in the room; false when it is not in. */
  setPresence(group: Uint8Array, address: Uint8Array, presence: OccupantPresence): boolean {
    const known = this.room(group).get(hex(address))
    if (known) known.presence = presence
    return known !== undefined
  }

  leave(group: Uint8Array, address: Uint8Array): void {
    this.room(group).delete(hex(address))
  }

  /** The room is gone (destroyed): nobody is in it. */
  clear(group: Uint8Array): void {
    this.rooms.delete(hex(group))
  }

  get(group: Uint8Array, address: Uint8Array): KnownOccupant | undefined {
    return this.room(group).get(hex(address))
  }

  nickOf(group: Uint8Array, address: Uint8Array): string | undefined {
    return this.get(group, address)?.nick
  }

  /** The role a moderator gave the occupant, if any (undefined also when it is not in). */
  roleOf(group: Uint8Array, address: Uint8Array): OccupantRole | undefined {
    return this.get(group, address)?.role
  }

  /** Gives an occupant in the room a role; undefined goes back to its affiliation's default. */
  setRole(group: Uint8Array, address: Uint8Array, role: OccupantRole | undefined): void {
    const known = this.get(group, address)
    if (known) known.role = role
  }

  /** The occupants in the room a moderator gave a role, by address (hex). */
  *rolesIn(group: Uint8Array): Iterable<[string, OccupantRole]> {
    for (const [address, known] of this.room(group)) if (known.role) yield [address, known.role]
  }

  /** The address (hex) of the occupant called `nick`. */
  addressOf(group: Uint8Array, nick: string): string | undefined {
    for (const [address, known] of this.room(group)) if (known.nick === nick) return address
    return undefined
  }
}

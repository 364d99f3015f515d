import type { OccupantRole } from '../../wire/group-message.js'

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')

interface Seat {
  nick: string
  /** A role a moderator gave (XEP-0045 §8.4-8.6, §9.6-9.7); none: the affiliation's default. */
  role?: OccupantRole
}

/**
 * Who this bridge believes is in each network room, local and remote, with the
 * nick each uses there and any role a moderator gave it: what a kick names
 * (the MUC kicks by nick), who is new when a join arrives (it is then told who
 * is already in), and whose messages are dropped (a visitor's). A role belongs
 * to the occupant's presence in the room (XEP-0045): it goes when the occupant
 * leaves. Memory only: a restarted bridge learns the room again from joins.
 */
export class RoomOccupants {
  private readonly rooms = new Map<string, Map<string, Seat>>()

  private room(group: Uint8Array): Map<string, Seat> {
    const key = hex(group)
    const room = this.rooms.get(key) ?? new Map<string, Seat>()
    this.rooms.set(key, room)
    return room
  }

  /** Records `address` in the room as `nick` (a nick change keeps its role); true when it was not in before. */
  enter(group: Uint8Array, address: Uint8Array, nick: string): boolean {
    const room = this.room(group)
    const seat = room.get(hex(address))
    if (seat) seat.nick = nick
    else room.set(hex(address), { nick })
    return seat === undefined
  }

  leave(group: Uint8Array, address: Uint8Array): void {
    this.room(group).delete(hex(address))
  }

  /** The room is gone (destroyed): nobody is in it. */
  clear(group: Uint8Array): void {
    this.rooms.delete(hex(group))
  }

  nickOf(group: Uint8Array, address: Uint8Array): string | undefined {
    return this.room(group).get(hex(address))?.nick
  }

  /** The role a moderator gave the occupant, if any (undefined also when it is not in). */
  roleOf(group: Uint8Array, address: Uint8Array): OccupantRole | undefined {
    return this.room(group).get(hex(address))?.role
  }

  /** Gives an occupant in the room a role; undefined goes back to its affiliation's default. */
  setRole(group: Uint8Array, address: Uint8Array, role: OccupantRole | undefined): void {
    const seat = this.room(group).get(hex(address))
    if (seat) seat.role = role
  }

  /** The address (hex) of the occupant called `nick`. */
  addressOf(group: Uint8Array, nick: string): string | undefined {
    for (const [address, seat] of this.room(group)) if (seat.nick === nick) return address
    return undefined
  }
}

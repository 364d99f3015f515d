const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')

/**
 * Who this bridge believes is in each network room, local and remote, with the
 * nick each uses there: what a kick names (the MUC kicks by nick) and who is
 * new when a join arrives (it is then told who is already in). Memory only: a
 * restarted bridge learns the room again from joins.
 */
export class RoomOccupants {
  private readonly rooms = new Map<string, Map<string, string>>()

  private room(group: Uint8Array): Map<string, string> {
    const key = hex(group)
    const room = this.rooms.get(key) ?? new Map<string, string>()
    this.rooms.set(key, room)
    return room
  }

  /** Records `address` in the room as `nick`; true when it was not in before. */
  enter(group: Uint8Array, address: Uint8Array, nick: string): boolean {
    const room = this.room(group)
    const fresh = !room.has(hex(address))
    room.set(hex(address), nick)
    return fresh
  }

  leave(group: Uint8Array, address: Uint8Array): void {
    this.room(group).delete(hex(address))
  }

  nickOf(group: Uint8Array, address: Uint8Array): string | undefined {
    return this.room(group).get(hex(address))
  }

  /** The address (hex) of the occupant called `nick`. */
  addressOf(group: Uint8Array, nick: string): string | undefined {
    for (const [address, name] of this.room(group)) if (name === nick) return address
    return undefined
  }
}

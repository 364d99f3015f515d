import type { OccupantPresence } from '../../wire/group-message.js'
import { PLAIN_PRESENCE } from './occupant-presence.js'

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')

/** One occupant as the gateway knows it: its nick and the show/status it last announced. */
export interface KnownOccupant {
  nick: string
  presence: OccupantPresence
}

/**
 * Who this bridge believes is in each network room, local and remote, with the
 * nick each uses there and its presence: what a kick names (the MUC kicks by
 * nick), who is new when a join arrives (it is then told who is already in,
 * with their presence), and whom a private message is for. Memory only: a
 * restarted bridge learns the room again from joins.
 */
export class RoomOccupants {
  private readonly rooms = new Map<string, Map<string, KnownOccupant>>()

  private room(group: Uint8Array): Map<string, KnownOccupant> {
    const key = hex(group)
    const room = this.rooms.get(key) ?? new Map<string, KnownOccupant>()
    this.rooms.set(key, room)
    return room
  }

  /** Records `address` in the room as `nick` (its presence kept, or `presence`); true when it was not in before. */
  enter(group: Uint8Array, address: Uint8Array, nick: string, presence?: OccupantPresence): boolean {
    const room = this.room(group)
    const known = room.get(hex(address))
    room.set(hex(address), { nick, presence: presence ?? known?.presence ?? PLAIN_PRESENCE })
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

  get(group: Uint8Array, address: Uint8Array): KnownOccupant | undefined {
    return this.room(group).get(hex(address))
  }

  nickOf(group: Uint8Array, address: Uint8Array): string | undefined {
    return this.get(group, address)?.nick
  }

  /** The address (hex) of the occupant called `nick`. */
  addressOf(group: Uint8Array, nick: string): string | undefined {
    for (const [address, known] of this.room(group)) if (known.nick === nick) return address
    return undefined
  }
}

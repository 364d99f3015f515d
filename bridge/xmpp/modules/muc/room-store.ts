import { z } from 'zod'
import type { ModuleContext } from '../../module.js'
import { type HistoryEntry, Room, type StoredRoom, storedRoomSchema } from './room.js'

const historySchema = z.strictObject({ stanza: z.string(), stamp: z.number() })

/** NUL cannot occur in a JID, so it separates the room from the message's sequence number. */
const SEP = '\u0000'
const SEQ_DIGITS = 16

/**
 * Persistent rooms (config, affiliations, subject) and their recent history,
 * in the module's tables; temporary rooms are never written.
 */
export function roomStore(ctx: ModuleContext) {
  const rooms = ctx.table('rooms', storedRoomSchema)
  const history = ctx.table('history', historySchema)
  let seq = ctx.now() * 1000

  const historyKeys = async (room: string) => {
    const keys: string[] = []
    for await (const key of history.keys({ prefix: `${room}${SEP}` })) keys.push(key)
    return keys
  }

  return {
    /** Every stored room with its history, oldest message first. */
    async load(roomJid: (name: string) => string): Promise<Room[]> {
      const out: Room[] = []
      for await (const [name, state] of rooms.entries()) {
        const room = new Room(name, roomJid(name), state)
        for await (const [, entry] of history.entries({ prefix: `${name}${SEP}` })) room.history.push(entry)
        out.push(room)
      }
      return out
    },

    save: (name: string, state: StoredRoom) => rooms.put(name, state),

    /** Stores a message and drops the oldest beyond `keep`. */
    async addHistory(name: string, entry: HistoryEntry, keep: number): Promise<void> {
      seq = Math.max(seq + 1, ctx.now() * 1000)
      await history.put(`${name}${SEP}${String(seq).padStart(SEQ_DIGITS, '0')}`, entry)
      const keys = await historyKeys(name)
      for (const key of keys.slice(0, Math.max(0, keys.length - keep))) await history.del(key)
    },

    /** Writes a room that became persistent, with the history it has. */
    async saveAll(room: Room): Promise<void> {
      await rooms.put(room.name, room.state)
      for (const entry of room.history) await this.addHistory(room.name, entry, room.history.length)
    },

    async remove(name: string): Promise<void> {
      for (const key of await historyKeys(name)) await history.del(key)
      await rooms.del(name)
    },
  }
}

export type RoomStore = ReturnType<typeof roomStore>

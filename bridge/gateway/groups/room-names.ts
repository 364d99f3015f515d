import { z } from 'zod'
import { encodeAddress } from '../../crypto/address.js'
import { jsonCodec, type Store, type Table } from '../../store/index.js'

const roomRecord = z.strictObject({ group: z.string().regex(/^[0-9a-f]{64}$/) })
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')

/**
 * Which group each network room of this bridge's MUC service is (docs/gateway.md
 * "Groups"). A room is named by its group's address lowercased, except one a
 * local client created under a name of its own: that name stays its name on
 * this bridge (a local alias); everywhere else it is the group's address.
 * Rooms with no entry are local-only.
 */
export class RoomNames {
  private readonly table: Table<z.infer<typeof roomRecord>>
  private readonly byGroup = new Map<string, string>()
  private readonly byRoom = new Map<string, Uint8Array>()

  constructor(store: Store) {
    this.table = store.table('group-rooms', jsonCodec(roomRecord))
  }

  async load(): Promise<void> {
    for await (const [room, { group }] of this.table.entries())
      this.set(room, new Uint8Array(Buffer.from(group, 'hex')))
  }

  /** The room of a group on this bridge: its alias, or its address. */
  roomOf(group: Uint8Array): string {
    return this.byGroup.get(hex(group)) ?? encodeAddress(group).toLowerCase()
  }

  /** The group a room is, when it is a network room. */
  groupOf(room: string): Uint8Array | undefined {
    return this.byRoom.get(room)
  }

  /** Records that `room` is `group`. */
  async remember(room: string, group: Uint8Array): Promise<void> {
    if (this.byRoom.has(room)) return
    await this.table.put(room, { group: hex(group) })
    this.set(room, group)
  }

  /** The room is no network room any more (its group was destroyed, or an invitation dropped). */
  async forget(room: string): Promise<void> {
    const group = this.byRoom.get(room)
    if (!group) return
    await this.table.del(room)
    this.byRoom.delete(room)
    this.byGroup.delete(hex(group))
  }

  private set(room: string, group: Uint8Array): void {
    this.byRoom.set(room, group)
    this.byGroup.set(hex(group), room)
  }
}

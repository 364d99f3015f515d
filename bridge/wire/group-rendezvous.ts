import { GROUP_FORMAT_VERSION, GroupWireError, KEY_BYTES, Reader, Writer } from './group-bytes.js'
import { GROUP_LIMITS } from './group-update.js'

/**
 * The plaintext of an open room's rendezvous record (docs/protocol.md "Open
 * rooms"): who to ask to be let in. Published under the group key's blinded
 * key of each period and sealed with the key derived from the group address
 * (dht/blinded-records.ts), so only someone who knows the room's address finds
 * and reads it.
 *
 *   format (1) = 1 ‖ state version (4) ‖ len (1) ‖ name (≤ 128)
 *   ‖ count (1, 1..16) ‖ count × admission address (32)
 */
export interface GroupRendezvous {
  /** The version of the state the publisher held. */
  stateVersion: number
  name: string
  /** Identity addresses of owners and admins that answer join requests, the publisher first. */
  admitters: Uint8Array[]
}

/** Admission addresses one record carries at most (the config's groups.recordAdmitters is at most this). */
export const MAX_RECORD_ADMITTERS = 16

export function encodeGroupRendezvous(record: GroupRendezvous): Uint8Array {
  const { admitters } = record
  if (admitters.length < 1 || admitters.length > MAX_RECORD_ADMITTERS)
    throw new GroupWireError(
      'GROUP_FIELD',
      `${admitters.length} admission addresses (1..${MAX_RECORD_ADMITTERS})`,
    )
  const w = new Writer()
    .u8(GROUP_FORMAT_VERSION)
    .u32(record.stateVersion, 'state version')
    .text8(record.name, GROUP_LIMITS.name, 'name')
    .u8(admitters.length, 'admitter count')
  for (const address of admitters) w.fixed(address, KEY_BYTES, 'admission address')
  return w.finish()
}

/** Strict: a record that does not decode is refused whole (GroupWireError). */
export function decodeGroupRendezvous(bytes: Uint8Array): GroupRendezvous {
  const r = new Reader(bytes, 'a group rendezvous record')
  const format = r.u8('format')
  if (format !== GROUP_FORMAT_VERSION)
    throw new GroupWireError('GROUP_VERSION', `group rendezvous record format ${format}`)
  const stateVersion = r.u32('state version')
  const name = r.text8(GROUP_LIMITS.name, 'name')
  const count = r.u8('admitter count')
  if (count < 1 || count > MAX_RECORD_ADMITTERS)
    throw new GroupWireError('GROUP_FIELD', `${count} admission addresses (1..${MAX_RECORD_ADMITTERS})`)
  const admitters: Uint8Array[] = []
  for (let i = 0; i < count; i++) admitters.push(r.take(KEY_BYTES, 'admission address'))
  r.end()
  return { stateVersion, name, admitters }
}

import { z } from 'zod'
import { bytesSchema, jsonCodec, type Store, sortableNumber, type Table } from '../../store/index.js'

/**
 * The group sessions' LevelDB tables. Keys are lowercase hex joined by ':',
 * the local identity first, then the group key, so one session's records
 * share a prefix; numbers are zero-padded so keys sort in order.
 */
const count = z.number().int().nonnegative()

/** Per (local, group): the state held (its wire snapshot) and the dedupe floor. */
const sessionRecord = z.strictObject({ snapshot: bytesSchema, seenFloor: count, lastTimestamp: count })
export type SessionRecord = z.infer<typeof sessionRecord>

/** One epoch's key material as a member holds it. */
const epochKeyRecord = z.strictObject({
  epochKey: bytesSchema,
  mailboxSeed: bytesSchema,
  stateVersion: count,
  stateHash: bytesSchema,
  receivedAt: count,
  /** When the next epoch's key arrived: the retention clock of this one starts. */
  supersededAt: count.optional(),
})
export type EpochKeyRecord = z.infer<typeof epochKeyRecord>

/** A key package for a state not held yet, with its authenticated sender. */
const pendingKeyRecord = z.strictObject({ from: bytesSchema, keyPackage: bytesSchema })
export type PendingKeyRecord = z.infer<typeof pendingKeyRecord>

const seenRecord = z.strictObject({ timestamp: count })

export interface GroupTables {
  /** key `local:group` */
  sessions: Table<SessionRecord>
  /** key `local:group:version` → the update's bytes (the chain, for members who catch up) */
  updates: Table<Uint8Array>
  /** key `local:group:epoch` */
  epochKeys: Table<EpochKeyRecord>
  /** key `local:group:version:from` */
  pendingKeys: Table<PendingKeyRecord>
  /** key `local:group:sender:id` → when the message was stamped */
  seen: Table<z.infer<typeof seenRecord>>
  /** key `local:group:timestamp:sender:id` → nothing: the same ids by time, to forget the oldest */
  seenByTime: Table<Record<string, never>>
}

const rawBytes = { encode: (b: Uint8Array) => b, decode: (b: Uint8Array) => b.slice() }

export function groupTables(store: Store): GroupTables {
  return {
    sessions: store.table('group-sessions', jsonCodec(sessionRecord)),
    updates: store.table('group-updates', rawBytes),
    epochKeys: store.table('group-epoch-keys', jsonCodec(epochKeyRecord)),
    pendingKeys: store.table('group-pending-keys', jsonCodec(pendingKeyRecord)),
    seen: store.table('group-seen', jsonCodec(seenRecord)),
    seenByTime: store.table('group-seen-by-time', jsonCodec(z.strictObject({}))),
  }
}

export const numberKey = (n: number): string => sortableNumber(n, 16)

import { z } from 'zod'
import { bytesSchema, jsonCodec } from './codec.js'
import type { Store } from './store.js'
import type { Table } from './table.js'

const identityRecord = z.strictObject({
  /** The XMPP localpart; unique per bridge. */
  nickname: z.string(),
  /** The password-sealed private key blob (bridge/crypto/keyfile.ts). */
  sealedKey: bytesSchema,
  /** Milliseconds since the epoch. */
  createdAt: z.number().int().nonnegative(),
})

export type IdentityRecord = z.infer<typeof identityRecord>

/** The user's identities, keyed by address. */
export function identitiesTable(store: Store): Table<IdentityRecord> {
  return store.table('identities', jsonCodec(identityRecord))
}

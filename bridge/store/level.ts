import type { AbstractBatchOperation, AbstractLevel, AbstractSublevel } from 'abstract-level'

/**
 * The one shape of database every table sits on: utf8 keys, byte values
 * (tables encode their own). classic-level and memory-level both provide it.
 */
export type RootLevel = AbstractLevel<string | Uint8Array | Buffer, string, Uint8Array>
export type TableLevel = AbstractSublevel<RootLevel, string | Uint8Array | Buffer, string, Uint8Array>

/** One write in an atomic batch; made by `table.putOp()` / `table.delOp()`. */
export type BatchOp = AbstractBatchOperation<RootLevel, string, Uint8Array>

/** How every table's database is opened, whatever the backend. */
export const LEVEL_OPTIONS = { keyEncoding: 'utf8', valueEncoding: 'view' } as const

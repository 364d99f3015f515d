import type { KdfParams } from '../shared/api-types.js'

/** Messages between the page and the key-derivation Web Worker. */
export type KdfRequest =
  | { op: 'create'; password: string; kdf: KdfParams }
  | { op: 'open'; sealedKey: Uint8Array; password: string }

export type KdfReply =
  | { type: 'progress'; fraction: number }
  | { type: 'created'; address: string; sealedKey: Uint8Array }
  | { type: 'opened'; address: string }
  | { type: 'error'; code: string; message: string }

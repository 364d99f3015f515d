import { nativeBackend } from './native.js'

/**
 * The backend every function uses when none is passed. On Node it is the
 * native one. The web UI's bundle swaps this module for
 * `default-backend.browser.ts` (noble) — with esbuild, an onResolve plugin
 * mapping `/default-backend\.js$/` to that file — so browser code that imports
 * address/keyfile/backup/identity/sign/xchacha/blind never pulls in node:crypto.
 * Browser code must import those files directly, not `index.ts` (which also
 * re-exports the native backend).
 */
export const defaultBackend = nativeBackend

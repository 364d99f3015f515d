import { nobleBackend } from './noble.js'

/** Browser build of default-backend.ts (see there): the pure-JS backend. */
export const defaultBackend = nobleBackend

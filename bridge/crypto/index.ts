/**
 * The crypto layer's public surface (Node). Browser code imports the single
 * files it needs instead (see default-backend.ts), never this one.
 */
export * from './address.js'
export type { CryptoBackend, ScryptParams } from './backend.js'
export * from './backup.js'
export * from './blind.js'
export { defaultBackend } from './default-backend.js'
export * from './domains.js'
export * from './errors.js'
export * from './identity.js'
export * from './keyfile.js'
export { nativeBackend } from './native.js'
export { nobleBackend } from './noble.js'
export * from './sign.js'
export * from './xchacha.js'

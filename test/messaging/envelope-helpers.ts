import { defaultConfig } from '../../bridge/config/schema.js'
import type { MessagingConfig } from '../../bridge/config/sections/messaging.js'
import type { CryptoBackend } from '../../bridge/crypto/backend.js'
import { nativeBackend } from '../../bridge/crypto/native.js'
import { EnvelopeSealer } from '../../bridge/messaging/envelope.js'
import { EnvelopeError, type EnvelopeErrorCode } from '../../bridge/messaging/errors.js'
import { openMemoryStore, type Store } from '../../bridge/store/index.js'

export const MINUTE = 60_000
export const HOUR = 60 * MINUTE
export const T0 = 1_700_000_000_000

export const config: MessagingConfig = defaultConfig().messaging

/** A clock the test moves by hand. */
export function clock(start = T0) {
  let t = start
  return {
    now: () => t,
    advance: (ms: number) => {
      t += ms
    },
  }
}

/** Hands out the given 32-byte values in order, then falls back to real randomness. */
export function scripted(values: Uint8Array[], backend: CryptoBackend = nativeBackend) {
  const queue = [...values]
  return (n: number) => queue.shift()?.slice(0, n) ?? backend.randomBytes(n)
}

/** One bridge's sealer over its own (in-memory unless given) store. */
export async function sealerOf(options: {
  now: () => number
  store?: Store
  backend?: CryptoBackend
  random?: (n: number) => Uint8Array
}): Promise<{ sealer: EnvelopeSealer; store: Store }> {
  const store = options.store ?? (await openMemoryStore())
  return { sealer: new EnvelopeSealer({ ...options, store, config }), store }
}

export const envelopeError = (code: EnvelopeErrorCode) => (error: unknown) =>
  error instanceof EnvelopeError && error.code === code

export const utf8 = (s: string) => new TextEncoder().encode(s)

import { concatBytes, utf8ToBytes } from '@noble/hashes/utils.js'
import { assertBytes, assertString } from './assert.js'
import type { CryptoBackend } from './backend.js'
import { defaultBackend } from './default-backend.js'
import { CryptoError } from './errors.js'

/**
 * Domain-separated Ed25519 signatures. What is signed is
 *   len(domain) (1 byte) ‖ domain (UTF-8) ‖ message
 * The length prefix fixes where the domain ends, so no (domain, message) pair
 * can be read as another one. Domains come from DOMAIN (domains.ts).
 */
export function signedBytes(domain: string, message: Uint8Array): Uint8Array {
  assertString(domain, 'domain')
  assertBytes(message, 'message')
  const tag = utf8ToBytes(domain)
  if (tag.length < 1 || tag.length > 255) throw new CryptoError('domain must be 1 to 255 bytes of UTF-8')
  return concatBytes(Uint8Array.of(tag.length), tag, message)
}

export function signWithDomain(
  seed: Uint8Array,
  domain: string,
  message: Uint8Array,
  backend: CryptoBackend = defaultBackend,
): Uint8Array {
  return backend.ed25519Sign(seed, signedBytes(domain, message))
}

/** false on a bad signature or malformed input; throws only for a domain that is not a valid string. */
export function verifyWithDomain(
  publicKey: Uint8Array,
  domain: string,
  message: Uint8Array,
  signature: Uint8Array,
  backend: CryptoBackend = defaultBackend,
): boolean {
  if (!(message instanceof Uint8Array)) return false
  return backend.ed25519Verify(publicKey, signedBytes(domain, message), signature)
}

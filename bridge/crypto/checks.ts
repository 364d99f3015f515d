import { assertBytes, assertInteger, assertOptionalBytes } from './assert.js'
import type { ScryptParams } from './backend.js'
import { CryptoError } from './errors.js'

/**
 * Input checks both backends run before touching a primitive, so they accept
 * and refuse exactly the same inputs with the same messages.
 */
export const TAG_LENGTH = 16

export function checkAeadArgs(
  key: unknown,
  nonce: unknown,
  data: unknown,
  aad: unknown,
  dataName: string,
): void {
  assertBytes(key, 'key', 32)
  assertBytes(nonce, 'nonce', 12)
  assertBytes(data, dataName)
  assertOptionalBytes(aad, 'aad')
}

export function checkStreamArgs(key: unknown, nonce: unknown, data: unknown, counter: unknown): void {
  assertBytes(key, 'key', 32)
  assertBytes(nonce, 'nonce', 12)
  assertBytes(data, 'data')
  // The 32-bit block counter must not wrap within `data` (RFC 8439 §2.4 allows 256 GiB per nonce).
  assertInteger(counter, 'counter', 0, 0xffffffff - Math.ceil((data as Uint8Array).length / 64))
}

export function checkSealed(sealed: Uint8Array): void {
  if (sealed.length < TAG_LENGTH) {
    throw new CryptoError(`sealed data must be at least ${TAG_LENGTH} bytes, got ${sealed.length}`)
  }
}

/** HKDF-SHA256 can produce at most 255 blocks of 32 bytes (RFC 5869 §2.3). */
export function checkHkdfArgs(ikm: unknown, salt: unknown, info: unknown, length: unknown): void {
  assertBytes(ikm, 'ikm')
  assertBytes(salt, 'salt')
  assertBytes(info, 'info')
  assertInteger(length, 'length', 1, 255 * 32)
}

/** Largest scrypt memory (128·r·N bytes) we ever agree to allocate: 2^32 bytes = logN 22 with r 8. */
export const SCRYPT_MAX_MEMORY = 2 ** 32

export function checkScryptArgs(password: unknown, salt: unknown, params: ScryptParams): void {
  assertBytes(password, 'password')
  assertBytes(salt, 'salt')
  if (typeof params !== 'object' || params === null) throw new CryptoError('scrypt params must be an object')
  assertInteger(params.logN, 'scrypt logN', 1, 22)
  assertInteger(params.r, 'scrypt r', 1, 32)
  assertInteger(params.p, 'scrypt p', 1, 16)
  assertInteger(params.dkLen, 'scrypt dkLen', 1, 1024)
  if (scryptMemory(params) > SCRYPT_MAX_MEMORY) {
    throw new CryptoError(`scrypt parameters need more than ${SCRYPT_MAX_MEMORY / 2 ** 30} GiB of memory`)
  }
}

export function scryptMemory(params: Pick<ScryptParams, 'logN' | 'r'>): number {
  return 128 * params.r * 2 ** params.logN
}

export function isAllZero(bytes: Uint8Array): boolean {
  let acc = 0
  for (const b of bytes) acc |= b
  return acc === 0
}

export const LOW_ORDER_MESSAGE = 'X25519 shared secret is all zero (low-order public key)'

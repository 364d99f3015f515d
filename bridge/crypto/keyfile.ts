import { concatBytes, utf8ToBytes } from '@noble/hashes/utils.js'
import { assertBytes, assertString } from './assert.js'
import type { CryptoBackend } from './backend.js'
import { SCRYPT_MAX_MEMORY, scryptMemory } from './checks.js'
import { defaultBackend } from './default-backend.js'
import { AeadError, CryptoError, KeyBlobError, WrongPasswordError } from './errors.js'
import { type Identity, identityFromSeed } from './identity.js'
import { xchachaOpen, xchachaSeal } from './xchacha.js'

/**
 * A private key at rest (docs/protocol.md "Private keys at rest"), 129 bytes:
 *
 *   "PIMK" ‖ 0x01 version ‖ 0x01 kdf=scrypt ‖ logN ‖ r ‖ p ‖ salt(16) ‖ publicKey(32)
 *   ‖ nonce(24) ‖ XChaCha20-Poly1305(key, nonce, seed(32), aad = bytes 0..57)(48)
 *
 * key = scrypt(UTF-8(NFKC(password)), salt, N = 2^logN, r, p, 32). The header
 * is the associated data, so the parameters and public key cannot be swapped.
 */
export interface KdfParams {
  logN: number
  r: number
  p: number
}

export interface SealedKeyInfo {
  publicKey: Uint8Array
  kdf: KdfParams & { name: 'scrypt' }
}

/** Injected only by test vectors; normally both are random. */
export interface SealOptions {
  salt?: Uint8Array
  nonce?: Uint8Array
}

const MAGIC = utf8ToBytes('PIMK')
const FORMAT_VERSION = 0x01
const KDF_SCRYPT = 0x01
const SALT_AT = 9
const PUBLIC_KEY_AT = SALT_AT + 16
const NONCE_AT = PUBLIC_KEY_AT + 32
const SEALED_AT = NONCE_AT + 24
export const SEALED_KEY_LENGTH = SEALED_AT + 32 + 16

/** Bounds a blob may carry; logN ≤ 22 so a hostile blob cannot make us allocate more than 4 GiB. */
const LIMITS = { logN: [10, 22], r: [1, 32], p: [1, 16] } as const

function checkKdf(kdf: KdfParams, fail: (message: string) => Error): void {
  for (const name of ['logN', 'r', 'p'] as const) {
    const [min, max] = LIMITS[name]
    const value = kdf[name]
    if (!Number.isInteger(value) || value < min || value > max) {
      throw fail(`scrypt ${name} must be in [${min}, ${max}], got ${value}`)
    }
  }
  if (scryptMemory(kdf) > SCRYPT_MAX_MEMORY) {
    throw fail(`scrypt logN ${kdf.logN} with r ${kdf.r} needs more than ${SCRYPT_MAX_MEMORY / 2 ** 30} GiB`)
  }
}

function deriveKey(password: string, salt: Uint8Array, kdf: KdfParams, backend: CryptoBackend) {
  assertString(password, 'password')
  if (password.length === 0) throw new CryptoError('password must not be empty')
  return backend.scrypt(utf8ToBytes(password.normalize('NFKC')), salt, { ...kdf, dkLen: 32 })
}

export async function sealPrivateKey(
  identity: Identity,
  password: string,
  kdf: KdfParams,
  backend: CryptoBackend = defaultBackend,
  options: SealOptions = {},
): Promise<Uint8Array> {
  if (typeof identity !== 'object' || identity === null) throw new CryptoError('identity must be an Identity')
  assertBytes(identity.seed, 'identity.seed', 32)
  assertBytes(identity.publicKey, 'identity.publicKey', 32)
  if (typeof kdf !== 'object' || kdf === null) throw new CryptoError('kdf must be { logN, r, p }')
  checkKdf(kdf, (message) => new CryptoError(message))
  const salt = options.salt ?? backend.randomBytes(16)
  const nonce = options.nonce ?? backend.randomBytes(24)
  assertBytes(salt, 'salt', 16)
  assertBytes(nonce, 'nonce', 24)
  const header = concatBytes(
    MAGIC,
    Uint8Array.of(FORMAT_VERSION, KDF_SCRYPT, kdf.logN, kdf.r, kdf.p),
    salt,
    identity.publicKey,
  )
  const key = await deriveKey(password, salt, kdf, backend)
  try {
    return concatBytes(header, nonce, xchachaSeal(key, nonce, identity.seed, header, backend))
  } finally {
    key.fill(0)
  }
}

/** The public key and KDF parameters of a sealed key, without the password. Throws KeyBlobError. */
export function inspectSealedKey(blob: Uint8Array): SealedKeyInfo {
  if (!(blob instanceof Uint8Array)) throw new KeyBlobError('not a byte array')
  if (blob.length < SEALED_AT) throw new KeyBlobError(`too short (${blob.length} bytes)`)
  if (!MAGIC.every((b, i) => blob[i] === b)) throw new KeyBlobError('not a ParanoIM key (bad magic)')
  if (blob[4] !== FORMAT_VERSION) throw new KeyBlobError(`unsupported format version ${blob[4]}`)
  if (blob[5] !== KDF_SCRYPT) throw new KeyBlobError(`unknown key derivation function ${blob[5]}`)
  if (blob.length !== SEALED_KEY_LENGTH) {
    throw new KeyBlobError(`must be ${SEALED_KEY_LENGTH} bytes, got ${blob.length}`)
  }
  const kdf = { logN: blob[6]!, r: blob[7]!, p: blob[8]! }
  checkKdf(kdf, (message) => new KeyBlobError(message))
  return { publicKey: blob.slice(PUBLIC_KEY_AT, NONCE_AT), kdf: { name: 'scrypt', ...kdf } }
}

/** Throws WrongPasswordError when the password does not open the blob, KeyBlobError when it is malformed. */
export async function openPrivateKey(
  blob: Uint8Array,
  password: string,
  backend: CryptoBackend = defaultBackend,
): Promise<Identity> {
  const { publicKey, kdf } = inspectSealedKey(blob)
  const key = await deriveKey(password, blob.subarray(SALT_AT, PUBLIC_KEY_AT), kdf, backend)
  let seed: Uint8Array
  try {
    seed = xchachaOpen(
      key,
      blob.subarray(NONCE_AT, SEALED_AT),
      blob.subarray(SEALED_AT),
      blob.subarray(0, NONCE_AT),
      backend,
    )
  } catch (err) {
    if (err instanceof AeadError) throw new WrongPasswordError()
    throw err
  } finally {
    key.fill(0)
  }
  const identity = identityFromSeed(seed, backend)
  seed.fill(0)
  if (!identity.publicKey.every((b, i) => b === publicKey[i])) {
    throw new KeyBlobError('the sealed seed does not belong to the stored public key')
  }
  return identity
}

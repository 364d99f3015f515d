import { ed25519 } from '@noble/curves/ed25519.js'
import { assertBytes } from './assert.js'
import type { CryptoBackend } from './backend.js'
import { defaultBackend } from './default-backend.js'
import { CryptoError } from './errors.js'

/**
 * An identity is an Ed25519 key pair; its X25519 key pair is derived from it
 * (as libsodium's crypto_sign_ed25519_*_to_curve25519 do), so an address —
 * the Ed25519 public key — is enough to encrypt to its owner.
 */
export interface Identity {
  /** The 32-byte Ed25519 seed (RFC 8032 private key). The only secret; everything else derives from it. */
  readonly seed: Uint8Array
  readonly publicKey: Uint8Array
  /** clamp(SHA-512(seed)[0..32]) (RFC 8032 §5.1.5 / RFC 7748 §5): the Ed25519 secret scalar's bytes. */
  readonly x25519PrivateKey: Uint8Array
  /** X25519(x25519PrivateKey, 9) = the Montgomery form of publicKey. */
  readonly x25519PublicKey: Uint8Array
}

/** RFC 7748 §5 decodeScalar25519 clamping, applied to a copy. */
export function clampScalar(bytes32: Uint8Array): Uint8Array {
  const k = bytes32.slice(0, 32)
  k[0]! &= 248
  k[31]! &= 127
  k[31]! |= 64
  return k
}

export function identityFromSeed(seed: Uint8Array, backend: CryptoBackend = defaultBackend): Identity {
  assertBytes(seed, 'seed', 32)
  const x25519PrivateKey = clampScalar(backend.sha512(seed).subarray(0, 32))
  return {
    seed: seed.slice(),
    publicKey: backend.ed25519PublicKey(seed),
    x25519PrivateKey,
    x25519PublicKey: backend.x25519PublicKey(x25519PrivateKey),
  }
}

export function generateIdentity(backend: CryptoBackend = defaultBackend): Identity {
  return identityFromSeed(backend.randomBytes(32), backend)
}

/**
 * The X25519 public key of an Ed25519 public key, through the birational map
 * u = (1 + y) / (1 − y) (RFC 7748 §4.1). Throws CryptoError when the bytes are
 * not a point of the curve.
 */
export function x25519FromEd25519PublicKey(publicKey: Uint8Array): Uint8Array {
  assertBytes(publicKey, 'publicKey', 32)
  try {
    return ed25519.utils.toMontgomery(publicKey)
  } catch (cause) {
    throw new CryptoError('publicKey is not a valid Ed25519 point', 'CRYPTO_INVALID_KEY', { cause })
  }
}

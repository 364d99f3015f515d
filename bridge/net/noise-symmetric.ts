import type { CryptoBackend } from '../crypto/backend.js'

/**
 * Noise (spec rev. 34) §5.2 SymmetricState for 25519_ChaChaPoly_SHA256, shared
 * by the NK link handshake and the NX descriptor request. Every key here
 * encrypts at most once before the next MixKey, so the nonce is always 0.
 */
export interface SymmetricState {
  ck: Uint8Array
  h: Uint8Array
  k: Uint8Array | undefined
}

const encoder = new TextEncoder()
const EMPTY = new Uint8Array(0)

export const concat = (a: Uint8Array, b: Uint8Array): Uint8Array => {
  const out = new Uint8Array(a.length + b.length)
  out.set(a, 0)
  out.set(b, a.length)
  return out
}

/** Noise §5.1: nonce n as 32 zero bits followed by n in 64-bit little-endian. */
export function noiseNonce(n: number): Uint8Array {
  const nonce = new Uint8Array(12)
  new DataView(nonce.buffer).setBigUint64(4, BigInt(n), true)
  return nonce
}

/** InitializeSymmetric(name) + MixHash(prologue). */
export function initializeSymmetric(
  backend: CryptoBackend,
  protocolName: string,
  prologue: Uint8Array,
): SymmetricState {
  // Our names are exactly 32 bytes (HASHLEN), so h is the name itself, unhashed.
  const h = encoder.encode(protocolName)
  if (h.length !== 32) throw new Error(`protocol name ${protocolName} is not 32 bytes`)
  const state: SymmetricState = { ck: h, h, k: undefined }
  mixHash(backend, state, prologue)
  return state
}

export function mixHash(backend: CryptoBackend, state: SymmetricState, data: Uint8Array): void {
  state.h = backend.sha256(concat(state.h, data))
}

/** Noise §4.3 HKDF(ck, ikm, 2) is RFC 5869 HKDF with salt ck and empty info: 64 bytes = two outputs. */
export function mixKey(backend: CryptoBackend, state: SymmetricState, ikm: Uint8Array): void {
  const out = backend.hkdfSha256(ikm, state.ck, EMPTY, 64)
  state.ck = out.slice(0, 32)
  state.k = out.slice(32, 64)
}

/** Before the first MixKey there is no key: the plaintext goes out as it is (and is hashed). */
export function encryptAndHash(
  backend: CryptoBackend,
  state: SymmetricState,
  plaintext: Uint8Array,
): Uint8Array {
  const sealed = state.k
    ? backend.chacha20poly1305Seal(state.k, noiseNonce(0), plaintext, state.h)
    : plaintext.slice()
  mixHash(backend, state, sealed)
  return sealed
}

/** Throws AeadError when the ciphertext was not made with this handshake's keys. */
export function decryptAndHash(
  backend: CryptoBackend,
  state: SymmetricState,
  sealed: Uint8Array,
): Uint8Array {
  const plaintext = state.k
    ? backend.chacha20poly1305Open(state.k, noiseNonce(0), sealed, state.h)
    : sealed.slice()
  mixHash(backend, state, sealed)
  return plaintext
}

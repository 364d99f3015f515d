import { hchacha } from '@noble/ciphers/chacha.js'
import { assertBytes, assertOptionalBytes } from './assert.js'
import type { CryptoBackend } from './backend.js'
import { defaultBackend } from './default-backend.js'

/**
 * XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha-03 §2.3): HChaCha20 turns the key
 * and the first 16 nonce bytes into a subkey; the remaining 8 nonce bytes,
 * after 4 zero bytes, are the ChaCha20-Poly1305 nonce. HChaCha comes from noble
 * (Node has none); the AEAD from the backend, so the bulk work is native on Node.
 */

const SIGMA = new Uint32Array([0x61707865, 0x3320646e, 0x79622d32, 0x6b206574]) // "expand 32-byte k"

/** Little-endian words of `bytes`, independent of the host's byte order. */
function words(bytes: Uint8Array): Uint32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const out = new Uint32Array(bytes.length / 4)
  for (let i = 0; i < out.length; i++) out[i] = view.getUint32(i * 4, true)
  return out
}

/** draft-irtf-cfrg-xchacha-03 §2.2: HChaCha20(key32, nonce16) → subkey32. */
export function hchacha20(key: Uint8Array, nonce16: Uint8Array): Uint8Array {
  assertBytes(key, 'key', 32)
  assertBytes(nonce16, 'nonce', 16)
  const out = new Uint32Array(8)
  hchacha(SIGMA, words(key), words(nonce16), out)
  const subkey = new Uint8Array(32)
  const view = new DataView(subkey.buffer)
  for (let i = 0; i < 8; i++) view.setUint32(i * 4, out[i]!, true)
  out.fill(0)
  return subkey
}

function subkeyAndNonce(key: Uint8Array, nonce: Uint8Array): [Uint8Array, Uint8Array] {
  assertBytes(key, 'key', 32)
  assertBytes(nonce, 'nonce', 24)
  const chachaNonce = new Uint8Array(12)
  chachaNonce.set(nonce.subarray(16), 4)
  return [hchacha20(key, nonce.subarray(0, 16)), chachaNonce]
}

/** Seal: ciphertext ‖ 16-byte tag. */
export function xchachaSeal(
  key: Uint8Array,
  nonce: Uint8Array,
  plaintext: Uint8Array,
  aad?: Uint8Array,
  backend: CryptoBackend = defaultBackend,
): Uint8Array {
  assertBytes(plaintext, 'plaintext')
  assertOptionalBytes(aad, 'aad')
  const [subkey, chachaNonce] = subkeyAndNonce(key, nonce)
  try {
    return backend.chacha20poly1305Seal(subkey, chachaNonce, plaintext, aad)
  } finally {
    subkey.fill(0)
  }
}

/** Open; throws AeadError when the tag does not verify. */
export function xchachaOpen(
  key: Uint8Array,
  nonce: Uint8Array,
  sealed: Uint8Array,
  aad?: Uint8Array,
  backend: CryptoBackend = defaultBackend,
): Uint8Array {
  assertBytes(sealed, 'sealed')
  assertOptionalBytes(aad, 'aad')
  const [subkey, chachaNonce] = subkeyAndNonce(key, nonce)
  try {
    return backend.chacha20poly1305Open(subkey, chachaNonce, sealed, aad)
  } finally {
    subkey.fill(0)
  }
}

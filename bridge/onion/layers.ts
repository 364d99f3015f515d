import type { CryptoBackend } from '../crypto/backend.js'

/**
 * The two kinds of protection a RELAY body gets (docs/protocol.md "Onion" →
 * "Hop layers"):
 * - each hop's layer: ChaCha20 (key per direction, nonce = 0⁴ ‖ sequence⁸),
 *   size-preserving and stateless per cell, so loss and reordering are harmless;
 * - end to end (builder ↔ the hop ending the circuit): ChaCha20-Poly1305
 *   (nonce = direction¹ ‖ 0³ ‖ sequence⁸), so a cell modified on the way
 *   fails at its end.
 */
export type Direction = 'forward' | 'backward'
const DIRECTION_BYTE: Record<Direction, number> = { forward: 1, backward: 2 }

function nonce(first: number, sequence: number): Uint8Array {
  const out = new Uint8Array(12)
  out[0] = first
  new DataView(out.buffer).setBigUint64(4, BigInt(sequence))
  return out
}

/** Adds or removes one hop layer (XOR with the hop's key stream for this sequence number). */
export const applyLayer = (
  backend: CryptoBackend,
  key: Uint8Array,
  sequence: number,
  body: Uint8Array,
): Uint8Array => backend.chacha20(key, nonce(0, sequence), body)

/** The RELAY body for a relay-message plaintext: sealed to the other end of the circuit. */
export const sealEnd = (
  backend: CryptoBackend,
  key: Uint8Array,
  direction: Direction,
  sequence: number,
  plaintext: Uint8Array,
): Uint8Array => backend.chacha20poly1305Seal(key, nonce(DIRECTION_BYTE[direction], sequence), plaintext)

/** Opens a RELAY body sealed by the other end; throws AeadError when any bit changed on the way. */
export const openEnd = (
  backend: CryptoBackend,
  key: Uint8Array,
  direction: Direction,
  sequence: number,
  body: Uint8Array,
): Uint8Array => backend.chacha20poly1305Open(key, nonce(DIRECTION_BYTE[direction], sequence), body)

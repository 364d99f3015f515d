import type { CryptoBackend } from '../crypto/backend.js'
import {
  decryptAndHash,
  encryptAndHash,
  initializeSymmetric,
  mixHash,
  mixKey,
  type SymmetricState,
} from './noise-symmetric.js'

/**
 * The Noise NX handshake (Noise spec rev. 34, §7.4 pattern NX), used once,
 * without transport, to ask a node we know only by address for its node
 * descriptor:
 *
 *     NX:
 *       -> e
 *       <- e, ee, s, es
 *
 * The request carries nothing secret (its payload is in clear and hashed). The
 * answer hides the responder's static key under `ee` and authenticates it by
 * `es`; its payload (the descriptor) is sealed under a key only the holder of
 * that static key and the requester's ephemeral key share. Protocol name
 * Noise_NX_25519_ChaChaPoly_SHA256, prologue DOMAIN.linkPrologue. Pure: the
 * ephemeral private keys are arguments, so test vectors can fix them.
 */
export const NX_PROTOCOL_NAME = 'Noise_NX_25519_ChaChaPoly_SHA256'

export interface NxRequesterState {
  symmetric: SymmetricState
  ephemeralPrivate: Uint8Array
}

export interface NxAnswer {
  ephemeral: Uint8Array
  /** EncryptAndHash(responder static): 48 bytes. */
  sealedStatic: Uint8Array
  sealedPayload: Uint8Array
  handshakeHash: Uint8Array
}

/** Message 1 (-> e): the ephemeral public key; `payload` goes out in clear (only hashed). */
export function nxRequest(
  backend: CryptoBackend,
  ephemeralPrivate: Uint8Array,
  payload: Uint8Array,
  prologue: Uint8Array,
): { ephemeral: Uint8Array; state: NxRequesterState } {
  const symmetric = initializeSymmetric(backend, NX_PROTOCOL_NAME, prologue)
  const ephemeral = backend.x25519PublicKey(ephemeralPrivate)
  mixHash(backend, symmetric, ephemeral)
  encryptAndHash(backend, symmetric, payload)
  return { ephemeral, state: { symmetric, ephemeralPrivate } }
}

/** Reads message 1 and writes message 2 (<- e, ee, s, es). Throws CryptoError on a low-order ephemeral key. */
export function nxAnswer(
  backend: CryptoBackend,
  staticPrivate: Uint8Array,
  staticPublic: Uint8Array,
  requesterEphemeral: Uint8Array,
  requestPayload: Uint8Array,
  ephemeralPrivate: Uint8Array,
  payload: Uint8Array,
  prologue: Uint8Array,
): NxAnswer {
  const state = initializeSymmetric(backend, NX_PROTOCOL_NAME, prologue)
  mixHash(backend, state, requesterEphemeral)
  decryptAndHash(backend, state, requestPayload)
  const ephemeral = backend.x25519PublicKey(ephemeralPrivate)
  mixHash(backend, state, ephemeral)
  mixKey(backend, state, backend.x25519(ephemeralPrivate, requesterEphemeral))
  const sealedStatic = encryptAndHash(backend, state, staticPublic)
  mixKey(backend, state, backend.x25519(staticPrivate, requesterEphemeral))
  const sealedPayload = encryptAndHash(backend, state, payload)
  return { ephemeral, sealedStatic, sealedPayload, handshakeHash: state.h }
}

/**
 * Reads message 2 on the requester: the responder's authenticated static key
 * and the payload. Throws AeadError or CryptoError when it is not an answer to
 * this request.
 */
export function nxRead(
  backend: CryptoBackend,
  requester: NxRequesterState,
  responderEphemeral: Uint8Array,
  sealedStatic: Uint8Array,
  sealedPayload: Uint8Array,
): { responderStatic: Uint8Array; payload: Uint8Array; handshakeHash: Uint8Array } {
  const state = { ...requester.symmetric }
  mixHash(backend, state, responderEphemeral)
  mixKey(backend, state, backend.x25519(requester.ephemeralPrivate, responderEphemeral))
  const responderStatic = decryptAndHash(backend, state, sealedStatic)
  mixKey(backend, state, backend.x25519(requester.ephemeralPrivate, responderStatic))
  const payload = decryptAndHash(backend, state, sealedPayload)
  return { responderStatic, payload, handshakeHash: state.h }
}

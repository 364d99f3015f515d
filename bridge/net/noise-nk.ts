import type { CryptoBackend } from '../crypto/backend.js'
import { DOMAIN } from '../crypto/domains.js'
import {
  decryptAndHash,
  encryptAndHash,
  initializeSymmetric,
  mixHash,
  mixKey,
  type SymmetricState,
} from './noise-symmetric.js'

/**
 * The Noise NK handshake (Noise spec rev. 34, §7.4 pattern NK):
 *
 *     NK:
 *       <- s
 *       ...
 *       -> e, es
 *       <- e, ee
 *
 * The initiator knows the responder's static key beforehand and stays
 * anonymous; the responder is authenticated by `es`; `ee` gives forward
 * secrecy. Protocol name Noise_NK_25519_ChaChaPoly_SHA256, prologue
 * DOMAIN.linkPrologue (the protocol version). The functions are pure: the
 * ephemeral private keys are arguments, so test vectors can fix them.
 */
export const NOISE_PROTOCOL_NAME = 'Noise_NK_25519_ChaChaPoly_SHA256'

const encoder = new TextEncoder()
const EMPTY = new Uint8Array(0)
/** Our prologue; the functions take another only so the Noise test vectors (prologue "John Galt") can run. */
export const LINK_PROLOGUE = encoder.encode(DOMAIN.linkPrologue)

export interface SessionKeys {
  /** Key for what this side sends. */
  sendKey: Uint8Array
  /** Key for what this side receives. */
  receiveKey: Uint8Array
  /** Authenticates a later handshake as coming from the same peer (a rekey of this link). */
  resumeKey: Uint8Array
  /** The final handshake hash h: a channel binding, used in test vectors. */
  handshakeHash: Uint8Array
}

export interface InitiatorState {
  symmetric: SymmetricState
  ephemeralPrivate: Uint8Array
}

export interface ResponderState {
  symmetric: SymmetricState
  initiatorEphemeral: Uint8Array
}

/** InitializeSymmetric + MixHash(prologue) + the NK pre-message MixHash(rs). */
function initialize(
  backend: CryptoBackend,
  responderStatic: Uint8Array,
  prologue: Uint8Array,
): SymmetricState {
  const state = initializeSymmetric(backend, NOISE_PROTOCOL_NAME, prologue)
  mixHash(backend, state, responderStatic)
  return state
}

/** Noise §5.2 Split, plus a resumption key derived from the final chaining key. */
function split(backend: CryptoBackend, state: SymmetricState, role: 'initiator' | 'responder'): SessionKeys {
  const out = backend.hkdfSha256(EMPTY, state.ck, EMPTY, 64)
  const initiatorToResponder = out.slice(0, 32)
  const responderToInitiator = out.slice(32, 64)
  const resumeKey = backend.hkdfSha256(state.ck, EMPTY, encoder.encode(DOMAIN.linkResume), 32)
  const initiator = role === 'initiator'
  return {
    sendKey: initiator ? initiatorToResponder : responderToInitiator,
    receiveKey: initiator ? responderToInitiator : initiatorToResponder,
    resumeKey,
    handshakeHash: state.h,
  }
}

/** Message 1 (-> e, es): returns the ephemeral public key and the sealed payload. */
export function initiatorStart(
  backend: CryptoBackend,
  responderStatic: Uint8Array,
  ephemeralPrivate: Uint8Array,
  payload: Uint8Array,
  prologue = LINK_PROLOGUE,
): { ephemeral: Uint8Array; sealedPayload: Uint8Array; state: InitiatorState } {
  const symmetric = initialize(backend, responderStatic, prologue)
  const ephemeral = backend.x25519PublicKey(ephemeralPrivate)
  mixHash(backend, symmetric, ephemeral)
  mixKey(backend, symmetric, backend.x25519(ephemeralPrivate, responderStatic))
  const sealedPayload = encryptAndHash(backend, symmetric, payload)
  return { ephemeral, sealedPayload, state: { symmetric, ephemeralPrivate } }
}

/** Reads message 1 on the responder. Throws AeadError (not for us) or CryptoError (low-order key). */
export function responderAccept(
  backend: CryptoBackend,
  staticPrivate: Uint8Array,
  staticPublic: Uint8Array,
  initiatorEphemeral: Uint8Array,
  sealedPayload: Uint8Array,
  prologue = LINK_PROLOGUE,
): { payload: Uint8Array; state: ResponderState } {
  const symmetric = initialize(backend, staticPublic, prologue)
  mixHash(backend, symmetric, initiatorEphemeral)
  mixKey(backend, symmetric, backend.x25519(staticPrivate, initiatorEphemeral))
  const payload = decryptAndHash(backend, symmetric, sealedPayload)
  return { payload, state: { symmetric, initiatorEphemeral } }
}

/** Message 2 (<- e, ee) and the responder's session keys. */
export function responderReply(
  backend: CryptoBackend,
  state: ResponderState,
  ephemeralPrivate: Uint8Array,
  payload: Uint8Array,
): { ephemeral: Uint8Array; sealedPayload: Uint8Array; keys: SessionKeys } {
  const symmetric = { ...state.symmetric }
  const ephemeral = backend.x25519PublicKey(ephemeralPrivate)
  mixHash(backend, symmetric, ephemeral)
  mixKey(backend, symmetric, backend.x25519(ephemeralPrivate, state.initiatorEphemeral))
  const sealedPayload = encryptAndHash(backend, symmetric, payload)
  return { ephemeral, sealedPayload, keys: split(backend, symmetric, 'responder') }
}

/** Reads message 2 on the initiator. Throws AeadError or CryptoError when it is not the responder's answer. */
export function initiatorFinish(
  backend: CryptoBackend,
  state: InitiatorState,
  responderEphemeral: Uint8Array,
  sealedPayload: Uint8Array,
): { payload: Uint8Array; keys: SessionKeys } {
  const symmetric = { ...state.symmetric }
  mixHash(backend, symmetric, responderEphemeral)
  mixKey(backend, symmetric, backend.x25519(state.ephemeralPrivate, responderEphemeral))
  const payload = decryptAndHash(backend, symmetric, sealedPayload)
  return { payload, keys: split(backend, symmetric, 'initiator') }
}

import type { CryptoBackend } from '../crypto/backend.js'
import { DOMAIN } from '../crypto/domains.js'
import { AeadError, CryptoError } from '../crypto/errors.js'
import { type Identity, x25519FromEd25519PublicKey } from '../crypto/identity.js'
import {
  decryptAndHash,
  encryptAndHash,
  initializeSymmetric,
  mixHash,
  mixKey,
  type SymmetricState,
} from '../net/noise-symmetric.js'
import {
  decodeSenderBlock,
  ENVELOPE_VERSION,
  type EnvelopeParts,
  encodeSenderBlock,
  isNoPrekey,
  NO_PREKEY_ID,
} from '../wire/envelope.js'
import { EnvelopeError } from './errors.js'

/**
 * The cryptography of one envelope, pure (keys and randomness are arguments,
 * so vectors can fix them). A one-way Noise pattern, X plus an optional
 * prekey token (docs/protocol.md "End-to-end envelopes"):
 *
 *     XP:
 *       <- s            (the recipient's address, known to the sender)
 *       ...
 *       -> e, es, s, ss, [ep]
 *
 * `s` travels as the sender's Ed25519 address (32 bytes) with the prekey id;
 * `ep` = DH(e, recipient prekey) only when the sender knows one.
 */
export const ENVELOPE_PROTOCOL_NAME = 'Noise_XP_25519_ChaChaPoly_SHA256'

export interface RecipientPrekey {
  id: Uint8Array
  publicKey: Uint8Array
}

export interface SealInput {
  sender: Identity
  /** The recipient's address (Ed25519 public key) and its X25519 form. */
  recipient: Uint8Array
  recipientStatic: Uint8Array
  /** Fresh for every envelope; discarded after. */
  ephemeralPrivate: Uint8Array
  /** The recipient's unexpired prekey, when known: mixes `ep` in (forward secrecy). */
  recipientPrekey: RecipientPrekey | undefined
  /** The encoded body plaintext (wire/envelope.ts encodeEnvelopeBody). */
  body: Uint8Array
  /** DH(sender static, recipient static), when the caller has it already (it never changes for a pair). */
  staticShared?: Uint8Array
}

export interface OpenedParts {
  sender: Uint8Array
  prekeyId: Uint8Array
  /** The body plaintext, still encoded. */
  body: Uint8Array
  handshakeHash: Uint8Array
}

const encoder = new TextEncoder()

/** DOMAIN.envelopePrologue ‖ version ‖ recipient address: an envelope is for this recipient and version only. */
function envelopePrologue(recipient: Uint8Array): Uint8Array {
  const domain = encoder.encode(DOMAIN.envelopePrologue)
  const out = new Uint8Array(domain.length + 1 + recipient.length)
  out.set(domain, 0)
  out[domain.length] = ENVELOPE_VERSION
  out.set(recipient, domain.length + 1)
  return out
}

/** Initialization, the pre-message `<- s`, then `e` and `es`: common to both sides. */
function start(
  backend: CryptoBackend,
  recipient: Uint8Array,
  recipientStatic: Uint8Array,
  ephemeral: Uint8Array,
  es: () => Uint8Array,
): SymmetricState {
  const state = initializeSymmetric(backend, ENVELOPE_PROTOCOL_NAME, envelopePrologue(recipient))
  mixHash(backend, state, recipientStatic)
  mixHash(backend, state, ephemeral)
  mixKey(backend, state, es())
  return state
}

export function sealEnvelope(
  backend: CryptoBackend,
  input: SealInput,
): EnvelopeParts & { handshakeHash: Uint8Array } {
  const ephemeral = backend.x25519PublicKey(input.ephemeralPrivate)
  const state = start(backend, input.recipient, input.recipientStatic, ephemeral, () =>
    backend.x25519(input.ephemeralPrivate, input.recipientStatic),
  )
  const prekeyId = input.recipientPrekey?.id ?? NO_PREKEY_ID
  const block = encodeSenderBlock({ sender: input.sender.publicKey, prekeyId })
  const sealedSender = encryptAndHash(backend, state, block)
  mixKey(
    backend,
    state,
    input.staticShared ?? backend.x25519(input.sender.x25519PrivateKey, input.recipientStatic),
  )
  if (input.recipientPrekey)
    mixKey(backend, state, backend.x25519(input.ephemeralPrivate, input.recipientPrekey.publicKey))
  const sealedBody = encryptAndHash(backend, state, input.body)
  return { ephemeral, sealedSender, sealedBody, handshakeHash: state.h }
}

/**
 * Opens an envelope for `recipient`. `prekeyPrivate` returns the private half
 * of one of the recipient's prekeys by id, or undefined when it is not held
 * (never held, or deleted). Throws EnvelopeError.
 */
export function openEnvelope(
  backend: CryptoBackend,
  recipient: Identity,
  parts: EnvelopeParts,
  prekeyPrivate: (id: Uint8Array) => Uint8Array | undefined,
  /**
   * DH(recipient static, X25519 form of the sender's address); a cache may
   * stand in. Throws CryptoError when the address is no point or a low-order one.
   */
  staticShared: (sender: Uint8Array) => Uint8Array = (sender) =>
    backend.x25519(recipient.x25519PrivateKey, x25519FromEd25519PublicKey(sender)),
): OpenedParts {
  const state = keyed('ENVELOPE_AUTH', 'ephemeral key is low-order', () =>
    start(backend, recipient.publicKey, recipient.x25519PublicKey, parts.ephemeral, () =>
      backend.x25519(recipient.x25519PrivateKey, parts.ephemeral),
    ),
  )
  const block = authentic(() => decryptAndHash(backend, state, parts.sealedSender), 'sender block')
  const { sender, prekeyId } = decodeSenderBlock(block)
  mixKey(
    backend,
    state,
    keyed('ENVELOPE_SENDER', 'sender address is not a usable key', () => staticShared(sender)),
  )
  if (!isNoPrekey(prekeyId)) {
    const prekey = prekeyPrivate(prekeyId)
    if (!prekey)
      throw new EnvelopeError(
        'PREKEY_UNKNOWN',
        `sealed to prekey ${Buffer.from(prekeyId).toString('hex')}, which we do not hold (expired or never ours)`,
        { claimedSender: sender },
      )
    mixKey(backend, state, backend.x25519(prekey, parts.ephemeral))
  }
  const body = authentic(() => decryptAndHash(backend, state, parts.sealedBody), 'body')
  return { sender, prekeyId, body, handshakeHash: state.h }
}

/** A CryptoError (a key off the curve, a low-order point) becomes an EnvelopeError. */
function keyed<T>(code: 'ENVELOPE_AUTH' | 'ENVELOPE_SENDER', message: string, fn: () => T): T {
  try {
    return fn()
  } catch (cause) {
    if (cause instanceof CryptoError) throw new EnvelopeError(code, message, { cause })
    throw cause
  }
}

function authentic(open: () => Uint8Array, what: string): Uint8Array {
  try {
    return open()
  } catch (cause) {
    if (!(cause instanceof AeadError)) throw cause
    throw new EnvelopeError(
      'ENVELOPE_AUTH',
      `envelope ${what} does not open: tampered, for another recipient, or forged`,
      { cause },
    )
  }
}

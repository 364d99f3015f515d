import { ed25519 } from '@noble/curves/ed25519.js'
import { bytesToNumberLE, numberToBytesLE } from '@noble/curves/utils.js'
import { concatBytes, utf8ToBytes } from '@noble/hashes/utils.js'
import { assertBytes, assertInteger } from './assert.js'
import type { CryptoBackend } from './backend.js'
import { defaultBackend } from './default-backend.js'
import { DOMAIN } from './domains.js'
import { CryptoError } from './errors.js'
import type { Identity } from './identity.js'

/**
 * Key blinding in the manner of Tor v3 onion services (rend-spec-v3 A.2), so a
 * rendezvous record can be signed under a key that changes every period and
 * that only someone who knows the address can compute:
 *
 *   h  = SHA-512(DOMAIN.blindFactor ‖ A ‖ period as 8 bytes BE) mod L   (h ≠ 0)
 *   A' = h·A            (blinded public key, from the address alone)
 *   a' = h·a mod L      (a = the Ed25519 secret scalar of the seed)
 *
 * Signatures are ordinary RFC 8032 signatures under A' (R = r·B,
 * S = r + SHA-512(R ‖ A' ‖ M)·a' mod L) with the deterministic nonce
 * r = SHA-512(prefix' ‖ M) mod L, prefix' = SHA-512(DOMAIN.blindNonce ‖ seed
 * prefix ‖ period)[0..32], so any Ed25519 verifier (BEP44 nodes) accepts them.
 * Unlike Tor, h is reduced mod L rather than clamped: 512 uniform bits mod L
 * are uniform in [0, L), and signing never needs h's bit pattern.
 */
const { Point } = ed25519
const Fn = Point.Fn
const MAX_PERIOD = Number.MAX_SAFE_INTEGER

/**
 * The two domain strings of one use of blinding. Rendezvous records and
 * mailboxes blind the same identity for the same period with different
 * domains, so a record key and a mailbox key cannot be linked to each other.
 */
export interface BlindingDomains {
  factor: string
  nonce: string
}

export const RENDEZVOUS_BLINDING: BlindingDomains = { factor: DOMAIN.blindFactor, nonce: DOMAIN.blindNonce }
export const MAILBOX_BLINDING: BlindingDomains = {
  factor: DOMAIN.mailboxBlindFactor,
  nonce: DOMAIN.mailboxBlindNonce,
}

export interface BlindedSigner {
  readonly publicKey: Uint8Array
  readonly period: number
  sign(message: Uint8Array): Uint8Array
}

function periodBytes(period: number): Uint8Array {
  assertInteger(period, 'period', 0, MAX_PERIOD)
  const out = new Uint8Array(8)
  new DataView(out.buffer).setBigUint64(0, BigInt(period))
  return out
}

const scalarOf = (hash64: Uint8Array) => Fn.create(bytesToNumberLE(hash64))

function blindFactor(
  publicKey: Uint8Array,
  period: number,
  backend: CryptoBackend,
  domains: BlindingDomains,
): bigint {
  const h = scalarOf(backend.sha512(concatBytes(utf8ToBytes(domains.factor), publicKey, periodBytes(period))))
  if (h === 0n) throw new CryptoError('blinding factor is zero') // probability 2^-252
  return h
}

/** The blinded public key of an identity for a period, computable from its address. */
export function blindPublicKey(
  publicKey: Uint8Array,
  period: number,
  backend: CryptoBackend = defaultBackend,
  domains: BlindingDomains = RENDEZVOUS_BLINDING,
): Uint8Array {
  assertBytes(publicKey, 'publicKey', 32)
  let point: InstanceType<typeof Point>
  try {
    point = Point.fromBytes(publicKey)
  } catch (cause) {
    throw new CryptoError('publicKey is not a valid Ed25519 point', 'CRYPTO_INVALID_KEY', { cause })
  }
  return point.multiply(blindFactor(publicKey, period, backend, domains)).toBytes()
}

/** Signs as the blinded key of `identity` for `period`; the signatures verify with plain Ed25519. */
export function blindedSigner(
  identity: Identity,
  period: number,
  backend: CryptoBackend = defaultBackend,
  domains: BlindingDomains = RENDEZVOUS_BLINDING,
): BlindedSigner {
  if (typeof identity !== 'object' || identity === null) throw new CryptoError('identity must be an Identity')
  assertBytes(identity.seed, 'identity.seed', 32)
  const expanded = ed25519.utils.getExtendedPublicKey(identity.seed)
  const blindedScalar = Fn.mul(expanded.scalar, blindFactor(expanded.pointBytes, period, backend, domains))
  const publicKey = Point.BASE.multiply(blindedScalar).toBytes()
  const noncePrefix = backend
    .sha512(concatBytes(utf8ToBytes(domains.nonce), expanded.prefix, periodBytes(period)))
    .slice(0, 32)
  return {
    publicKey,
    period,
    sign(message: Uint8Array): Uint8Array {
      assertBytes(message, 'message')
      const r = scalarOf(backend.sha512(concatBytes(noncePrefix, message)))
      if (r === 0n) throw new CryptoError('signature nonce is zero') // probability 2^-252
      const R = Point.BASE.multiply(r).toBytes()
      const k = scalarOf(backend.sha512(concatBytes(R, publicKey, message)))
      const S = Fn.add(r, Fn.mul(k, blindedScalar))
      return concatBytes(R, numberToBytesLE(S, 32))
    },
  }
}

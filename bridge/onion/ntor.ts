import type { CryptoBackend } from '../crypto/backend.js'
import { DOMAIN } from '../crypto/domains.js'
import { x25519FromEd25519PublicKey } from '../crypto/identity.js'
import { OnionError } from './errors.js'

/**
 * The circuit handshake, Tor's ntor (tor-spec §5.1.4) over X25519 with
 * HMAC/HKDF-SHA256 (docs/protocol.md "Onion" → "Circuit handshake"):
 *
 *   builder: ephemeral x, X = X25519(x, 9); knows the hop's node key ID (Ed25519),
 *            B = its X25519 form
 *   hop:     ephemeral y, Y; static b
 *   secret = X25519(y|x, X|Y) ‖ X25519(b|x, X|B) ‖ ID ‖ B ‖ X ‖ Y
 *   verify = HMAC(key "paranoim/v1/onion-ntor-verify", secret)
 *   auth   = HMAC(key "paranoim/v1/onion-ntor-auth", verify ‖ ID ‖ B ‖ Y ‖ X)
 *   keys   = HKDF(ikm secret, salt verify, info "paranoim/v1/onion-hop-keys", 128)
 *          = forward ‖ backward ‖ endToEnd ‖ binding
 *
 * Only the holder of b can compute auth; forgetting x and y afterwards gives
 * forward secrecy (the keys need DH(x, y) too).
 */
export interface HopKeys {
  /** Stream key of the hop's layer, builder → end. */
  forward: Uint8Array
  /** Stream key of the hop's layer, end → builder. */
  backward: Uint8Array
  /** AEAD key between the builder and this hop while it ends the circuit. */
  endToEnd: Uint8Array
  /** Names this circuit hop to both sides (signed by intro registrations). */
  binding: Uint8Array
}

export interface HopReply {
  ephemeral: Uint8Array
  auth: Uint8Array
  keys: HopKeys
}

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s)
const VERIFY_KEY = utf8(DOMAIN.onionNtorVerify)
const AUTH_KEY = utf8(DOMAIN.onionNtorAuth)
const KEYS_INFO = utf8(DOMAIN.onionHopKeys)

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

function derive(
  backend: CryptoBackend,
  dhEphemeral: Uint8Array,
  dhStatic: Uint8Array,
  nodeKey: Uint8Array,
  nodeStatic: Uint8Array,
  x: Uint8Array,
  y: Uint8Array,
): { auth: Uint8Array; keys: HopKeys } {
  const secret = concat(dhEphemeral, dhStatic, nodeKey, nodeStatic, x, y)
  const verify = backend.hmacSha256(VERIFY_KEY, secret)
  const auth = backend.hmacSha256(AUTH_KEY, concat(verify, nodeKey, nodeStatic, y, x))
  const okm = backend.hkdfSha256(secret, verify, KEYS_INFO, 128)
  secret.fill(0)
  return {
    auth,
    keys: {
      forward: okm.subarray(0, 32),
      backward: okm.subarray(32, 64),
      endToEnd: okm.subarray(64, 96),
      binding: okm.subarray(96, 128),
    },
  }
}

/** The hop's side: answers the builder's ephemeral key `x` with its own and the proof. */
export function hopRespond(
  backend: CryptoBackend,
  node: { publicKey: Uint8Array; x25519PrivateKey: Uint8Array; x25519PublicKey: Uint8Array },
  x: Uint8Array,
  ephemeralPrivate: Uint8Array,
): HopReply {
  const y = backend.x25519PublicKey(ephemeralPrivate)
  const { auth, keys } = derive(
    backend,
    backend.x25519(ephemeralPrivate, x),
    backend.x25519(node.x25519PrivateKey, x),
    node.publicKey,
    node.x25519PublicKey,
    x,
    y,
  )
  return { ephemeral: y, auth, keys }
}

/** The builder's side: checks the hop's proof; throws OnionError HANDSHAKE_AUTH when it is not the node key's. */
export function builderFinish(
  backend: CryptoBackend,
  ephemeralPrivate: Uint8Array,
  nodeKey: Uint8Array,
  y: Uint8Array,
  auth: Uint8Array,
): HopKeys {
  const x = backend.x25519PublicKey(ephemeralPrivate)
  const nodeStatic = x25519FromEd25519PublicKey(nodeKey)
  let derived: ReturnType<typeof derive>
  try {
    derived = derive(
      backend,
      backend.x25519(ephemeralPrivate, y),
      backend.x25519(ephemeralPrivate, nodeStatic),
      nodeKey,
      nodeStatic,
      x,
      y,
    )
  } catch (cause) {
    throw new OnionError('HANDSHAKE_AUTH', 'the hop sent a low-order ephemeral key', { cause })
  }
  let diff = auth.length ^ derived.auth.length
  for (let i = 0; i < derived.auth.length; i++) diff |= (auth[i] ?? 0) ^ derived.auth[i]!
  if (diff !== 0) throw new OnionError('HANDSHAKE_AUTH', 'the hop did not prove its node key')
  return derived.keys
}

import type { CryptoBackend } from '../crypto/backend.js'
import { defaultBackend } from '../crypto/default-backend.js'
import { DOMAIN } from '../crypto/domains.js'
import { signedBytes } from '../crypto/sign.js'

/** BEP 5 node ids and info-hashes are 160 bits. */
export const DHT_ID_LENGTH = 20

/**
 * SHA-256(len ‖ domain ‖ data) truncated to 160 bits: the one way this layer
 * turns keys and names into DHT ids. (The length-prefixed domain framing is
 * the same as for signatures, crypto/sign.ts.)
 */
export function domainId(
  domain: string,
  data: Uint8Array,
  backend: CryptoBackend = defaultBackend,
): Uint8Array {
  return backend.sha256(signedBytes(domain, data)).slice(0, DHT_ID_LENGTH)
}

/**
 * A node's DHT id is bound to its node key: id = SHA-256(len ‖ "paranoim/v1/dht-node-id"
 * ‖ node public key)[0..20]. Whoever answers a KRPC query under an id must hold
 * the key that hashes to it to serve a matching signed descriptor. See
 * docs/protocol.md "DHT node ids" for what this does and does not buy against Sybils.
 */
export function dhtNodeId(nodePublicKey: Uint8Array, backend: CryptoBackend = defaultBackend): Uint8Array {
  return domainId(DOMAIN.dhtNodeId, nodePublicKey, backend)
}

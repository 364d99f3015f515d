import { DOMAIN } from '../crypto/domains.js'
import { domainId } from './node-id.js'

const ascii = new TextEncoder()

/**
 * The info-hash every relay announces (BEP 5 announce_peer) and every node
 * looks up to find relays: SHA-256(len ‖ "paranoim/v1/relays" ‖ "relays")[0..20].
 */
export const RELAY_INFO_HASH: Uint8Array = domainId(DOMAIN.relayInfoHash, ascii.encode('relays'))

import type { Endpoint } from '../net/udp-node.js'
import type { DhtNode } from './dht-node.js'
import { RelayDescriptorError } from './errors.js'

/**
 * How a candidate relay found through get_peers is asked for its signed
 * descriptor: one KRPC extension query on the same socket,
 *
 *   query    { q: "pim_descriptor", a: { id: <20>, pad: <≥ 256 zero bytes> } }
 *   response { r: { id: <20>, d: <descriptor bytes> } }
 *
 * An encrypted link cannot be the first contact: its Noise NK handshake needs
 * the responder's node key, which is what the descriptor tells us. The
 * descriptor is self-authenticating (signed by its node key, listing its
 * endpoints), and `r.id` must equal the DHT id derived from that key. The
 * padding makes the query larger than any answer, so a spoofed source address
 * gains an attacker nothing (no amplification).
 */
export const DESCRIPTOR_QUERY = 'pim_descriptor'
export const DESCRIPTOR_QUERY_PAD = 256

export interface FetchedDescriptor {
  bytes: Uint8Array
  /** The KRPC id the answer came under. */
  responderId: Uint8Array
}

/** The transport relay discovery uses; injected so tests can replace it. */
export type FetchDescriptor = (endpoint: Endpoint) => Promise<FetchedDescriptor>

export function serveDescriptorQueries(dht: DhtNode, descriptor: () => Uint8Array | null): () => void {
  return dht.onQuery(DESCRIPTOR_QUERY, (args) => {
    const pad = args['pad']
    if (!(pad instanceof Uint8Array) || pad.length < DESCRIPTOR_QUERY_PAD) return null
    const bytes = descriptor()
    return bytes ? { id: Buffer.from(dht.id), d: Buffer.from(bytes) } : null
  })
}

/** Fetches over KRPC; k-rpc's query timeout (dht.queryTimeoutMs) bounds the wait. */
export function fetchDescriptorOverKrpc(dht: DhtNode): FetchDescriptor {
  return async (endpoint) => {
    try {
      const { d, id } = await dht.query(endpoint, DESCRIPTOR_QUERY, {
        pad: Buffer.alloc(DESCRIPTOR_QUERY_PAD),
      })
      if (!(d instanceof Uint8Array) || !(id instanceof Uint8Array)) throw new Error('answer without d or id')
      return { bytes: new Uint8Array(d), responderId: new Uint8Array(id) }
    } catch (cause) {
      const why = cause instanceof Error ? cause.message : String(cause)
      throw new RelayDescriptorError('DESCRIPTOR_FETCH', `${endpoint.host}:${endpoint.port}: ${why}`, {
        cause,
      })
    }
  }
}

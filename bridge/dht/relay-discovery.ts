import type { CryptoBackend } from '../crypto/backend.js'
import { x25519FromEd25519PublicKey } from '../crypto/identity.js'
import type { Logger } from '../log.js'
import type { FetchedDescriptor } from '../net/links.js'
import type { Clock, Endpoint } from '../net/udp-node.js'
import { Capability, DescriptorError, decodeDescriptor, type NodeDescriptor } from '../wire/descriptor.js'
import type { DhtConfig, DhtNode } from './dht-node.js'
import { type DescriptorRefusal, RelayDescriptorError } from './errors.js'
import { dhtNodeId } from './node-id.js'
import type { RelayDirectory } from './relay-directory.js'
import { RELAY_INFO_HASH } from './relay-info-hash.js'

/** Asks the node at an endpoint for its descriptor over the overlay: Links.fetchDescriptor (Noise NX). */
export type FetchDescriptor = (endpoint: Endpoint) => Promise<FetchedDescriptor>

export interface RelayDiscoveryOptions {
  dht: DhtNode
  directory: RelayDirectory
  fetchDescriptor: FetchDescriptor
  config: DhtConfig
  clock: Clock
  backend: CryptoBackend
  log: Logger
  /** Our own endpoints, never added as a candidate. */
  self?: () => Endpoint[]
  /** Descriptor fetches in flight at once. */
  concurrency?: number
  /**
   * Proves the endpoint holds the descriptor's node key before the relay is
   * listed: the service passes `links.connect`, whose Noise NK handshake
   * authenticates the responder's key.
   */
  confirm?: (nodeKey: Uint8Array, endpoint: Endpoint) => Promise<unknown>
}

export interface RefreshResult {
  /** Endpoints the get_peers walk returned. */
  found: number
  /** Descriptors fetched and verified (new or refreshed). */
  verified: number
  /** Candidates refused, by reason. */
  refused: Partial<Record<DescriptorRefusal, number>>
}

export interface RelayDiscovery {
  /** Looks the relay info-hash up, fetches and verifies descriptors of candidates not fresh in the directory. */
  refresh(): Promise<RefreshResult>
  /** Fetches and verifies one candidate; adds it to the directory. Throws RelayDescriptorError. */
  check(endpoint: Endpoint): Promise<NodeDescriptor>
}

const endpointKey = (e: Endpoint): string => `${e.host}:${e.port}`

/**
 * A fetched descriptor is accepted when it decodes and its signature verifies,
 * its node key is the static key the NX exchange authenticated, it has not
 * expired, it offers the relay capability, it lists the endpoint we fetched it
 * from (a descriptor replayed from elsewhere fails), and, when our routing
 * table knows the KRPC id at that endpoint, that id is the DHT id its node key
 * derives (node-id.ts).
 */
export function verifyFetchedDescriptor(
  fetched: FetchedDescriptor,
  endpoint: Endpoint,
  context: { now: number; clockSkewMs: number; backend: CryptoBackend; knownNodeId?: Uint8Array | undefined },
): NodeDescriptor {
  let descriptor: NodeDescriptor
  try {
    descriptor = decodeDescriptor(fetched.bytes, context.backend)
  } catch (error) {
    const why = error instanceof DescriptorError ? `${error.code}: ${error.message}` : String(error)
    throw new RelayDescriptorError('DESCRIPTOR_INVALID', why, { cause: error })
  }
  if (!Buffer.from(x25519FromEd25519PublicKey(descriptor.nodeKey)).equals(fetched.responderStatic)) {
    throw new RelayDescriptorError(
      'DESCRIPTOR_KEY_MISMATCH',
      'the descriptor is not signed by the key that answered',
    )
  }
  if (descriptor.expiresAt + context.clockSkewMs < context.now) {
    throw new RelayDescriptorError('DESCRIPTOR_EXPIRED', 'descriptor expired')
  }
  if ((descriptor.capabilities & Capability.relay) === 0) {
    throw new RelayDescriptorError('DESCRIPTOR_NOT_RELAY', 'descriptor does not offer the relay capability')
  }
  if (!descriptor.endpoints.some((e) => e.host === endpoint.host && e.port === endpoint.port)) {
    throw new RelayDescriptorError(
      'DESCRIPTOR_ENDPOINT_MISMATCH',
      `descriptor does not list ${endpointKey(endpoint)}`,
    )
  }
  const knownId = context.knownNodeId
  if (knownId && !Buffer.from(dhtNodeId(descriptor.nodeKey, context.backend)).equals(knownId)) {
    throw new RelayDescriptorError(
      'DESCRIPTOR_NODE_ID_MISMATCH',
      'the DHT id at that endpoint is not derived from the node key',
    )
  }
  return descriptor
}

export function createRelayDiscovery(options: RelayDiscoveryOptions): RelayDiscovery {
  const { dht, directory, config, clock, backend } = options
  const log = options.log.child({ c: 'relay-discovery' })
  const concurrency = options.concurrency ?? 8

  async function check(endpoint: Endpoint): Promise<NodeDescriptor> {
    let fetched: FetchedDescriptor
    try {
      fetched = await options.fetchDescriptor(endpoint)
    } catch (cause) {
      const why = cause instanceof Error ? cause.message : String(cause)
      throw new RelayDescriptorError('DESCRIPTOR_FETCH', `${endpointKey(endpoint)}: ${why}`, { cause })
    }
    const descriptor = verifyFetchedDescriptor(fetched, endpoint, {
      now: clock.now(),
      clockSkewMs: config.clockSkewMs,
      backend,
      knownNodeId: dht.idAt(endpoint),
    })
    try {
      await options.confirm?.(descriptor.nodeKey, endpoint)
    } catch (cause) {
      const why = cause instanceof Error ? cause.message : String(cause)
      throw new RelayDescriptorError(
        'DESCRIPTOR_LINK_FAILED',
        `no link to ${endpointKey(endpoint)}: ${why}`,
        { cause },
      )
    }
    directory.upsert(descriptor, endpoint, clock.now())
    return descriptor
  }

  /** A directory entry reached at this endpoint whose descriptor is still good for a while. */
  function freshAt(endpoint: Endpoint, now: number): string | undefined {
    for (const entry of directory.list()) {
      const sameEndpoint = entry.endpoint.host === endpoint.host && entry.endpoint.port === endpoint.port
      if (sameEndpoint && entry.descriptor.expiresAt - now > config.descriptorTtlMs / 4) return entry.id
    }
    return undefined
  }

  async function refresh(): Promise<RefreshResult> {
    const own = new Set((options.self?.() ?? []).map(endpointKey))
    const endpoints = (await dht.findPeers(RELAY_INFO_HASH)).filter((e) => !own.has(endpointKey(e)))
    const result: RefreshResult = { found: endpoints.length, verified: 0, refused: {} }
    const now = clock.now()
    const queue: Endpoint[] = []
    for (const endpoint of endpoints) {
      const known = freshAt(endpoint, now)
      if (known) directory.seen(known, now)
      else queue.push(endpoint)
    }
    const worker = async () => {
      for (let endpoint = queue.shift(); endpoint; endpoint = queue.shift()) {
        try {
          await check(endpoint)
          result.verified++
        } catch (error) {
          const code = error instanceof RelayDescriptorError ? error.code : 'DESCRIPTOR_FETCH'
          result.refused[code] = (result.refused[code] ?? 0) + 1
          log.debug({ err: error, endpoint }, 'relay candidate refused')
        }
      }
    }
    await Promise.all(Array.from({ length: concurrency }, worker))
    directory.prune(clock.now())
    return result
  }

  return { refresh, check }
}

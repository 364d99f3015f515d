import type { CryptoBackend } from '../crypto/backend.js'
import { defaultBackend } from '../crypto/default-backend.js'
import type { Identity } from '../crypto/identity.js'
import type { Logger } from '../log.js'
import type { Links } from '../net/links.js'
import type { Endpoint, UdpNode } from '../net/udp-node.js'
import { type BlindedRecords, createBlindedRecords } from './blinded-records.js'
import { createDhtNode, type DhtConfig, type DhtHealth, type DhtNode } from './dht-node.js'
import { createItemVerifier, emptyRefusals, type RefusalCounts } from './item-verifier.js'
import { dhtNodeId } from './node-id.js'
import { createRecords, type Records } from './records.js'
import { createRelayAnnouncer, type RelayAnnouncer } from './relay-announcer.js'
import { createRelayDirectory, type RelayDirectory } from './relay-directory.js'
import { createRelayDiscovery, type RelayDiscovery } from './relay-discovery.js'

/** Something that says when the node may have moved or been cut off (net/network-watch.ts's NetworkWatch). */
export interface NetworkSignals {
  on(event: 'rejoin', listener: (reason: string) => void): unknown
  off(event: 'rejoin', listener: (reason: string) => void): unknown
}

export interface DhtServiceOptions {
  /** The node's UDP socket, already started. */
  udp: UdpNode
  /** The node key: DHT id, descriptor signatures. */
  nodeKey: Identity
  config: DhtConfig
  backend?: CryptoBackend
  log: Logger
  /** Act as a relay: announce the relay info-hash and serve our descriptor. */
  relay?: { capabilities: number }
  /** Where others reach us; default the UDP node's bound address. */
  endpoints?: () => Endpoint[]
  /** The overlay: descriptor requests to candidates, and answers to them when we are a relay. */
  overlay: Pick<Links, 'fetchDescriptor' | 'serveDescriptor'>
  /** When given (links.connect), a relay is listed only once a link to its node key came up. */
  confirmRelay?: (nodeKey: Uint8Array, endpoint: Endpoint) => Promise<unknown>
  /** When given, its 'rejoin' (addresses changed, every link down) triggers a rejoin. */
  network?: NetworkSignals
}

export interface DhtServiceStatus extends DhtHealth {
  relays: number
  refusals: RefusalCounts
}

export interface DhtService {
  readonly dht: DhtNode
  readonly records: Records
  readonly blinded: BlindedRecords
  readonly directory: RelayDirectory
  readonly discovery: RelayDiscovery
  readonly announcer: RelayAnnouncer | undefined
  /** Items refused by this node (as a storing node and as a reader), by reason. */
  readonly refusals: RefusalCounts
  start(): Promise<void>
  stop(): Promise<void>
  /** Joins the DHT again, re-announces and republishes; called on network changes, retried while isolated. */
  rejoin(): Promise<void>
  status(): DhtServiceStatus
}

/**
 * One node's whole DHT side, composed in start order: DHT (over the UDP
 * node's KRPC facade), signed and blinded records with republishing, the relay
 * role when asked, relay discovery into an in-memory directory.
 */
export function createDhtService(options: DhtServiceOptions): DhtService {
  const { udp, config } = options
  const backend = options.backend ?? defaultBackend
  const log = options.log
  const refusals = emptyRefusals()
  const limits = { clockSkewMs: config.clockSkewMs, maxRecordTtlMs: config.maxRecordTtlMs }
  const endpoints = options.endpoints ?? (() => [udp.address()])
  const dht = createDhtNode({
    udp,
    id: dhtNodeId(options.nodeKey.publicKey, backend),
    config,
    verify: createItemVerifier({ backend, clock: udp.clock, limits, refusals }),
    log,
  })
  const records = createRecords({ dht, config, clock: udp.clock, refusals, log })
  const blinded = createBlindedRecords({ records, config, clock: udp.clock, backend })
  const directory = createRelayDirectory(config, udp.random)
  const discovery = createRelayDiscovery({
    dht,
    directory,
    fetchDescriptor: (endpoint) => options.overlay.fetchDescriptor(endpoint, config.queryTimeoutMs),
    ...(options.confirmRelay ? { confirm: options.confirmRelay } : {}),
    config,
    clock: udp.clock,
    backend,
    log,
    self: endpoints,
  })
  const announcer = options.relay
    ? createRelayAnnouncer({
        dht,
        nodeKey: options.nodeKey,
        endpoints,
        capabilities: options.relay.capabilities,
        serveDescriptor: (provider) => options.overlay.serveDescriptor(provider),
        config,
        clock: udp.clock,
        backend,
        log,
      })
    : undefined
  let rejoining: Promise<void> | undefined
  let retry: NodeJS.Timeout | undefined
  let running = false

  /** No node answered (cut off, or the bootstrap nodes are down): tries again in dht.rejoinRetryMs. */
  function retryIfIsolated(): boolean {
    if (dht.health().nodes > 0 || config.bootstrap.length === 0) return false
    if (running) retry = setTimeout(() => void rejoin().catch(() => {}), config.rejoinRetryMs).unref()
    return true
  }

  async function rejoin(): Promise<void> {
    clearTimeout(retry)
    rejoining ??= (async () => {
      try {
        await dht.rejoin()
        if (retryIfIsolated()) return
        await announcer?.announce()
        await records.republishAll()
      } finally {
        rejoining = undefined
      }
    })()
    return rejoining
  }

  const onNetworkChange = (reason: string) => {
    log.info({ c: 'dht', reason }, 'network changed: rejoining the DHT')
    rejoin().catch((error) => log.warn({ err: error }, 'rejoin failed'))
  }

  return {
    dht,
    records,
    blinded,
    directory,
    discovery,
    announcer,
    refusals,
    async start() {
      running = true
      await dht.start()
      retryIfIsolated()
      records.start()
      await announcer?.start()
      options.network?.on('rejoin', onNetworkChange)
    },
    async stop() {
      running = false
      clearTimeout(retry)
      options.network?.off('rejoin', onNetworkChange)
      announcer?.stop()
      records.stop()
      await dht.stop()
    },
    rejoin,
    status: () => ({ ...dht.health(), relays: directory.size, refusals: { ...refusals } }),
  }
}

import type { Config } from '../config/schema.js'
import type { CryptoBackend } from '../crypto/backend.js'
import { defaultBackend } from '../crypto/default-backend.js'
import type { Identity } from '../crypto/identity.js'
import type { Logger } from '../log.js'
import { createLinks, type Links } from '../net/links.js'
import { NetworkWatch } from '../net/network-watch.js'
import { type Clock, createUdpNode, type Endpoint, type UdpNode } from '../net/udp-node.js'
import { Capability } from '../wire/descriptor.js'
import { createDhtService, type DhtService } from './dht-service.js'

export interface NetworkNodeOptions {
  /** `net` and `dht` sections (dht.bootstrap says whom to join through). */
  config: Pick<Config, 'net' | 'dht'>
  nodeKey: Identity
  /** Default: config.net.host and config.net.port. */
  bind?: Endpoint
  /** The IPv4 address others reach this node at, with the bound port; default the bound host. */
  publicHost?: string
  /** Announce as a relay (default true). */
  relay?: boolean
  /** List a relay only once a link to its node key came up (see DhtServiceOptions.confirmRelay). */
  confirmRelaysOverLinks?: boolean
  clock?: Clock
  backend?: CryptoBackend
  log: Logger
}

/** One node of the network: its UDP socket, encrypted links, network watch and DHT side. */
export interface NetworkNode {
  readonly nodeKey: Identity
  readonly udp: UdpNode
  readonly links: Links
  /** Interface changes and all-links-down: tells the DHT to rejoin. */
  readonly watch: NetworkWatch
  readonly service: DhtService
  stop(): Promise<void>
}

/**
 * The composition root of a node's network side, started in order: socket,
 * links, DHT (joins, announces), network watch. The testnet, the netns lab and
 * the bridge all start nodes through here.
 */
export async function startNetworkNode(options: NetworkNodeOptions): Promise<NetworkNode> {
  const { config, nodeKey, log } = options
  const backend = options.backend ?? defaultBackend
  const udp = createUdpNode({
    bind: options.bind ?? { host: config.net.host, port: config.net.port },
    ...(options.clock ? { clock: options.clock } : {}),
    log,
  })
  await udp.start()
  const links = createLinks({ node: udp, nodeKey, config: config.net, backend })
  const watch = new NetworkWatch({ links, intervalMs: config.net.interfaceCheckIntervalMs, log })
  const service = createDhtService({
    udp,
    nodeKey,
    config: config.dht,
    backend,
    log,
    overlay: links,
    network: watch,
    ...(options.relay === false ? {} : { relay: { capabilities: Capability.relay | Capability.introPoint } }),
    endpoints: () => [{ host: options.publicHost ?? udp.address().host, port: udp.address().port }],
    ...(options.confirmRelaysOverLinks
      ? { confirmRelay: (key, endpoint) => links.connect(key, endpoint) }
      : {}),
  })
  links.start()
  try {
    await service.start()
  } catch (error) {
    links.stop()
    await udp.stop()
    throw error
  }
  watch.start()
  return {
    nodeKey,
    udp,
    links,
    watch,
    service,
    async stop() {
      watch.stop()
      links.stop()
      await service.stop()
      await udp.stop()
    },
  }
}

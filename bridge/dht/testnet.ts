import { loadConfig } from '../config/load.js'
import type { Config } from '../config/schema.js'
import type { CryptoBackend } from '../crypto/backend.js'
import { defaultBackend } from '../crypto/default-backend.js'
import { generateIdentity, type Identity } from '../crypto/identity.js'
import { type Logger, silentLogger } from '../log.js'
import type { Clock, Endpoint } from '../net/udp-node.js'
import { projectPath } from '../paths.js'
import { formatTable } from '../text-table.js'
import type { DhtConfig } from './dht-node.js'
import type { DhtServiceStatus } from './dht-service.js'
import { type NetworkNode, startNetworkNode } from './network-node.js'

/** config/testnet.toml: the testnet's relaxations (one /16, short timers). */
export const TESTNET_CONFIG = projectPath('config', 'testnet.toml')
const HOST = '127.0.0.1'

export interface TestnetOptions {
  /** How many nodes, the bootstrap node included. */
  nodes: number
  /** Whole configuration; default: defaults with config/testnet.toml over them. */
  config?: Config
  /** DHT settings over `config.dht` (tests shorten timers here). */
  dht?: Partial<DhtConfig>
  /**
   * List a relay only once an encrypted link to its node key came up (default
   * false: N·(N − 1) handshakes, about 8 s for 30 nodes, a minute for 100).
   */
  confirmRelaysOverLinks?: boolean
  /** Nodes joining at the same time (default 8). */
  joinConcurrency?: number
  backend?: CryptoBackend
  /** Every node's clock (tests move time across period boundaries); default the system clock. */
  clock?: Clock
  log?: Logger
  /**
   * Runs more layers on each node as it starts (the onion router: see
   * bridge/onion/testnet-relays.ts); the returned function stops them.
   */
  attach?: (node: NetworkNode) => () => void
  /** Called after each node joined. */
  onProgress?: (progress: { joined: number; total: number; node: TestnetNode }) => void
}

export interface TestnetNode extends NetworkNode {
  index: number
  /** Where the node was bound at start (a test may move it: see udp.address()). */
  endpoint: Endpoint
  /** False once stopped (killed by a test, or the testnet stopped). */
  running: boolean
}

export interface TestnetStatusRow extends DhtServiceStatus {
  index: number
  endpoint: string
  running: boolean
}

export interface Testnet {
  readonly config: DhtConfig
  /** The bootstrap node's endpoint (node 0). */
  readonly bootstrap: Endpoint
  readonly nodes: TestnetNode[]
  /** Adds one more node joining through the bootstrap node (with a fresh node key unless given one). */
  addNode(nodeKey?: Identity): Promise<TestnetNode>
  /** Every running node refreshes its relay directory (get_peers + descriptor fetches). */
  discoverRelays(): Promise<void>
  status(): TestnetStatusRow[]
  stop(): Promise<void>
}

/**
 * A private DHT on 127.0.0.1 in this process: real UDP sockets, node 0 as the
 * bootstrap node, every node a relay. `paranoim testnet`, the demo and the
 * integration tests all start networks through this function.
 */
export async function startTestnet(options: TestnetOptions): Promise<Testnet> {
  if (!Number.isInteger(options.nodes) || options.nodes < 1)
    throw new RangeError('nodes must be a positive integer')
  const base = options.config ?? loadConfig({ files: [TESTNET_CONFIG] })
  const log = options.log ?? silentLogger
  const backend = options.backend ?? defaultBackend
  const nodes: TestnetNode[] = []
  let nextIndex = 0
  const dhtConfig = (bootstrap: string[]): DhtConfig => ({ ...base.dht, ...options.dht, bootstrap })

  async function startNode(bootstrap: string[], nodeKey = generateIdentity(backend)): Promise<TestnetNode> {
    const index = nextIndex++
    const started = await startNetworkNode({
      config: { net: base.net, dht: dhtConfig(bootstrap) },
      nodeKey,
      bind: { host: HOST, port: 0 },
      ...(options.confirmRelaysOverLinks ? { confirmRelaysOverLinks: true } : {}),
      ...(options.clock ? { clock: options.clock } : {}),
      backend,
      log: log.child({ node: index }),
    })
    const detach = options.attach?.(started)
    const node: TestnetNode = {
      ...started,
      index,
      endpoint: started.udp.address(),
      running: true,
      async stop() {
        if (!node.running) return
        node.running = false
        detach?.()
        await started.stop()
      },
    }
    nodes[index] = node
    return node
  }

  const first = await startNode([])
  const bootstrap = first.endpoint
  const bootstrapList = [`${bootstrap.host}:${bootstrap.port}`]
  let joined = 1
  options.onProgress?.({ joined, total: options.nodes, node: first })

  const joinNext = async (nodeKey?: Identity): Promise<TestnetNode> => {
    const node = await startNode(bootstrapList, nodeKey)
    joined++
    options.onProgress?.({ joined, total: Math.max(options.nodes, joined), node })
    return node
  }
  // `joinConcurrency` nodes join at a time; a failure stops whatever already started.
  let remaining = options.nodes - 1
  const worker = async () => {
    while (remaining > 0) {
      remaining--
      await joinNext()
    }
  }
  try {
    await Promise.all(Array.from({ length: options.joinConcurrency ?? 8 }, worker))
  } catch (error) {
    await Promise.all(nodes.map((node) => node.stop()))
    throw error
  }
  // The bootstrap node announced while alone (no node took it); now there is a network to tell.
  await first.service.announcer?.announce()

  return {
    config: dhtConfig(bootstrapList),
    bootstrap,
    nodes,
    addNode: joinNext,
    async discoverRelays() {
      await Promise.all(nodes.filter((n) => n.running).map((n) => n.service.discovery.refresh()))
    },
    status: () =>
      nodes.map((node) => ({
        index: node.index,
        endpoint: `${node.endpoint.host}:${node.endpoint.port}`,
        running: node.running,
        ...node.service.status(),
      })),
    async stop() {
      await Promise.all(nodes.map((node) => node.stop()))
    },
  }
}

/** The status as a fixed-width text table (for the CLI and test logs). */
export function formatTestnetStatus(rows: TestnetStatusRow[]): string {
  const header = [
    '#',
    'endpoint',
    'state',
    'id',
    'nodes',
    'buckets',
    'values',
    'peers',
    'relays',
    'refused',
    'krpc in/out B',
  ]
  const table = rows.map((r) => [
    String(r.index),
    r.endpoint,
    r.running ? (r.ready ? 'up' : 'joining') : 'stopped',
    r.id.slice(0, 8),
    String(r.nodes),
    String(r.buckets),
    String(r.storedValues),
    String(r.storedPeers),
    String(r.relays),
    String(Object.values(r.refusals).reduce((a, b) => a + b, 0)),
    `${r.krpc.bytesIn}/${r.krpc.bytesOut}`,
  ])
  return formatTable(header, table)
}

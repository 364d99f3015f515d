import DHT, { type GetResult, type VerifyFunction } from 'bittorrent-dht'
import type { KBucketTreeNode } from 'k-bucket'
import krpc, { type Krpc, type KrpcNode } from 'k-rpc'
import type { Config } from '../config/schema.js'
import type { Logger } from '../log.js'
import type { Endpoint, TrafficCounter, UdpNode } from '../net/udp-node.js'
import { DhtError } from './errors.js'

export type DhtConfig = Config['dht']

export interface DhtNodeOptions {
  /** The node's one UDP socket; the DHT sees only its KRPC datagrams. Started by the caller. */
  udp: UdpNode
  /** 20 bytes, from node-id.ts. */
  id: Uint8Array
  config: DhtConfig
  /** BEP 44 item check run by bittorrent-dht on every put it receives and every get reply (item-verifier.ts). */
  verify: VerifyFunction
  log: Logger
}

/** Routing-table and storage figures, for status tables and health checks. */
export interface DhtHealth {
  id: string
  /** The first join finished (successfully or not). */
  ready: boolean
  /** Contacts in the routing table. */
  nodes: number
  /** Leaves of the k-bucket tree. */
  buckets: number
  /** BEP 44 items and announced peers held for others. */
  storedValues: number
  storedPeers: number
  /** Joins so far: the first one plus every rejoin. */
  joins: number
  /** KRPC traffic counted at the socket. */
  krpc: TrafficCounter
}

/** A BEP 44 mutable item as returned by a get, signature already verified. */
export interface MutableItem {
  publicKey: Uint8Array
  salt?: Uint8Array
  seq: number
  value: Uint8Array
}

export interface MutablePut {
  publicKey: Uint8Array
  salt?: Uint8Array
  seq: number
  value: Uint8Array
  /** Signs the BEP 44 signable bytes with the key behind `publicKey`. */
  sign(message: Uint8Array): Uint8Array
}

export interface DhtNode {
  readonly id: Uint8Array
  /** Joins through the configured bootstrap list; resolves once the first lookup finished. */
  start(): Promise<void>
  stop(): Promise<void>
  /** Joins again (after an address change or when every link dropped): bootstrap nodes, then a self lookup. */
  rejoin(): Promise<void>
  health(): DhtHealth
  /** Stores a mutable item on the nodes closest to it; resolves with how many accepted it. */
  putMutable(item: MutablePut): Promise<number>
  /** The highest-seq item that passed `verify`, or null when no node holds one. */
  getMutable(publicKey: Uint8Array, salt?: Uint8Array): Promise<MutableItem | null>
  /** BEP 5 announce_peer with implied port: the network records our socket's address. */
  announce(infoHash: Uint8Array): Promise<void>
  /** BEP 5 get_peers walk: every endpoint announced under `infoHash` that the walk met. */
  findPeers(infoHash: Uint8Array): Promise<Endpoint[]>
  /** The KRPC id of the routing-table node at `endpoint`, when there is one. */
  idAt(endpoint: Endpoint): Uint8Array | undefined
}

const bytes = (data: Uint8Array): Buffer => Buffer.from(data.buffer, data.byteOffset, data.byteLength)

/** Leaves of the k-bucket tree: each is one bucket. */
function countBuckets(root: KBucketTreeNode<KrpcNode>): number {
  let count = 0
  for (const stack = [root]; stack.length > 0; ) {
    const node = stack.pop()!
    if (node.contacts) count++
    else stack.push(...[node.left, node.right].filter((n) => n !== null))
  }
  return count
}

function parseHostPort(text: string): Endpoint {
  const at = text.lastIndexOf(':')
  return { host: text.slice(0, at), port: Number(text.slice(at + 1)) }
}

/**
 * k-rpc adds every id that queries us, and would happily keep thousands of ids
 * claimed from one address: one socket could then fill every bucket near a
 * target and starve lookups (lookups query each host:port once). A real node
 * has one id per endpoint, so a newer id replaces the older one.
 */
function keepOneIdPerEndpoint(rpc: Krpc, idAt: Map<string, Buffer>): void {
  rpc.nodes.on('added', (contact) => {
    const endpoint = `${contact.host}:${contact.port}`
    const previous = idAt.get(endpoint)
    idAt.set(endpoint, contact.id)
    if (previous && !previous.equals(contact.id)) rpc.nodes.remove(previous)
  })
  rpc.nodes.on('removed', (contact) => {
    const endpoint = `${contact.host}:${contact.port}`
    if (idAt.get(endpoint)?.equals(contact.id)) idAt.delete(endpoint)
  })
}

/**
 * bittorrent-dht over the node's shared UDP socket: a k-rpc instance built on
 * UdpNode's KRPC facade is handed in through the `krpc` option, so the DHT
 * never opens a socket of its own. The bootstrap list always comes from the
 * config (`false` when empty): left out, k-rpc and bittorrent-dht would
 * contact the public BitTorrent routers.
 */
export function createDhtNode(options: DhtNodeOptions): DhtNode {
  const { udp, config } = options
  const log = options.log.child({ c: 'dht' })
  const id = options.id.slice()
  const bootstrap = config.bootstrap.map(parseHostPort)
  const bootstrapOption = bootstrap.length > 0 ? bootstrap : false
  /** host:port → id of the routing-table node there (keepOneIdPerEndpoint keeps one per endpoint). */
  const idAt = new Map<string, Buffer>()
  let dht: DHT | undefined
  let joins = 0

  function running(): { dht: DHT; rpc: Krpc } {
    if (!dht) throw new DhtError('DHT_NOT_STARTED', 'the DHT node is not started')
    return { dht, rpc: dht._rpc }
  }

  async function start(): Promise<void> {
    if (dht) return
    const rpc = krpc({
      socket: udp.krpcSocket(),
      id: bytes(id),
      idLength: id.length,
      bootstrap: bootstrapOption,
      k: config.k,
      concurrency: config.concurrency,
      timeout: config.queryTimeoutMs,
    })
    const created = new DHT({
      krpc: rpc,
      bootstrap: bootstrapOption,
      verify: options.verify,
      maxAge: config.peerMaxAgeMs,
      maxValues: config.maxStoredValues,
      maxPeers: config.maxStoredPeers,
    })
    idAt.clear()
    keepOneIdPerEndpoint(rpc, idAt)
    created.on('warning', (error) => log.debug({ err: error }, 'krpc warning'))
    created.on('error', (error) => log.warn({ err: error }, 'dht error'))
    dht = created
    const ready = new Promise<void>((resolve) => created.once('ready', resolve))
    created.listen()
    joins++
    await ready
    log.debug({ nodes: created.nodes.count() }, 'joined')
  }

  async function stop(): Promise<void> {
    const stopping = dht
    if (!stopping) return
    dht = undefined
    await new Promise<void>((resolve) => stopping.destroy(resolve))
  }

  async function rejoin(): Promise<void> {
    const { dht, rpc } = running()
    joins++
    for (const peer of bootstrap) dht.addNode(peer)
    await new Promise<void>((resolve) =>
      rpc.populate(rpc.id, { q: 'find_node', a: { id: rpc.id, target: rpc.id } }, () => resolve()),
    )
    log.debug({ nodes: dht.nodes.count() }, 'rejoined')
  }

  function health(): DhtHealth {
    const krpcCounter = { ...udp.counters().krpc }
    if (!dht) {
      const idle = { nodes: 0, buckets: 0, storedValues: 0, storedPeers: 0 }
      return { id: bytes(id).toString('hex'), ready: false, joins, krpc: krpcCounter, ...idle }
    }
    return {
      id: bytes(id).toString('hex'),
      ready: dht.ready === true,
      nodes: dht.nodes.count(),
      buckets: countBuckets(dht.nodes.root),
      storedValues: dht._values.length,
      storedPeers: dht._peers.size,
      joins,
      krpc: krpcCounter,
    }
  }

  /**
   * bittorrent-dht reuses the closest nodes of a lookup made in the last 5
   * minutes, even an empty one (a node that was alone, or cut off): put and
   * announce would then reach nobody until it expires. We always look up afresh.
   */
  function forgetLookup(dht: DHT, target: Buffer): void {
    dht._tables.remove(target.toString('hex'))
  }

  function mutableTarget(dht: DHT, publicKey: Uint8Array, salt: Buffer | undefined): Buffer {
    const key = bytes(publicKey)
    // The library's own hash (SHA-1) makes the target, so it always matches what it checks.
    return dht._hash(salt ? Buffer.concat([key, salt]) : key)
  }

  function putMutable(item: MutablePut): Promise<number> {
    const { dht } = running()
    const salt = item.salt && item.salt.length > 0 ? bytes(item.salt) : undefined
    forgetLookup(dht, mutableTarget(dht, item.publicKey, salt))
    return new Promise((resolve, reject) => {
      try {
        dht.put(
          {
            k: bytes(item.publicKey),
            ...(salt ? { salt } : {}),
            seq: item.seq,
            v: bytes(item.value),
            sign: (message) => bytes(item.sign(message)),
          },
          (error, _key, stored) => {
            if (error) reject(new DhtError('DHT_PUT_FAILED', `no node stored the item: ${error.message}`))
            else resolve(stored ?? 0)
          },
        )
      } catch (error) {
        reject(new DhtError('DHT_BAD_ARGUMENT', `put refused: ${(error as Error).message}`, { cause: error }))
      }
    })
  }

  function getMutable(publicKey: Uint8Array, salt?: Uint8Array): Promise<MutableItem | null> {
    const { dht } = running()
    const saltBytes = salt && salt.length > 0 ? bytes(salt) : undefined
    const key = bytes(publicKey)
    const target = mutableTarget(dht, publicKey, saltBytes)
    // cache: false — a node's own stored copy is returned unverified and may be stale.
    const getOptions = saltBytes ? { salt: saltBytes, cache: false } : { cache: false }
    return new Promise((resolve, reject) => {
      dht.get(target, getOptions, (error, result) => {
        if (error) reject(new DhtError('DHT_GET_FAILED', `lookup failed: ${error.message}`))
        else resolve(toMutableItem(result, key, saltBytes))
      })
    })
  }

  function announce(infoHash: Uint8Array): Promise<void> {
    const { dht } = running()
    forgetLookup(dht, bytes(infoHash))
    return new Promise((resolve, reject) => {
      dht.announce(bytes(infoHash), 0, (error) => {
        if (error) reject(new DhtError('DHT_ANNOUNCE_FAILED', `announce failed: ${error.message}`))
        else resolve()
      })
    })
  }

  function findPeers(infoHash: Uint8Array): Promise<Endpoint[]> {
    const { dht } = running()
    const wanted = bytes(infoHash)
    const found = new Map<string, Endpoint>()
    const onPeer = (peer: Endpoint, hash: Buffer) => {
      if (hash.equals(wanted)) found.set(`${peer.host}:${peer.port}`, { host: peer.host, port: peer.port })
    }
    dht.on('peer', onPeer)
    return new Promise((resolve) => {
      dht.lookup(wanted, () => {
        dht.off('peer', onPeer)
        resolve([...found.values()])
      })
    })
  }

  return {
    id,
    start,
    stop,
    rejoin,
    health,
    putMutable,
    getMutable,
    announce,
    findPeers,
    idAt(endpoint) {
      const id = idAt.get(`${endpoint.host}:${endpoint.port}`)
      return id ? new Uint8Array(id) : undefined
    },
  }
}

/** Only well-typed fields leave this file: the result came from the network. */
function toMutableItem(result: GetResult | null, key: Buffer, salt: Buffer | undefined): MutableItem | null {
  if (
    !result ||
    !Buffer.isBuffer(result.v) ||
    typeof result.seq !== 'number' ||
    !Number.isSafeInteger(result.seq)
  ) {
    return null
  }
  if (!Buffer.isBuffer(result.k) || !result.k.equals(key)) return null
  const item: MutableItem = {
    publicKey: new Uint8Array(key),
    seq: result.seq,
    value: new Uint8Array(result.v),
  }
  if (salt) item.salt = new Uint8Array(salt)
  return item
}

/**
 * Typings for bittorrent-dht 11 (node_modules/bittorrent-dht/client.js):
 * Mainline DHT (BEP 5) with BEP 44 put/get. Only what the code base uses is
 * declared, as the library behaves (see the notes on each member).
 */
declare module 'bittorrent-dht' {
  import { EventEmitter } from 'node:events'
  import type KBucket from 'k-bucket'
  import type { Krpc, KrpcNode, KrpcPeer } from 'k-rpc'

  /**
   * BEP 44 signature check: `(signature, signable bytes, public key) → ok`.
   * Without one, every mutable put is refused (`400 verification not supported`)
   * and every mutable get result ignored.
   */
  export type VerifyFunction = (signature: Buffer, message: Buffer, publicKey: Buffer) => boolean

  export interface DhtOptions {
    /** A ready k-rpc instance; when given, k-rpc options (id, bootstrap, k…) belong to it. */
    krpc?: Krpc
    /**
     * `false`: do not populate the routing table at start. Any other value
     * (including leaving it out) populates through k-rpc's bootstrap list.
     */
    bootstrap?: Array<string | KrpcPeer> | false
    verify?: VerifyFunction
    /** Own IPv4 to add ourselves as a peer on announce; left out, we never list ourselves. */
    host?: string | false
    /** Peer records expire after this many ms (record-cache); 0 (default) = never. */
    maxAge?: number
    /** Stored BEP 44 values, LRU-evicted beyond this count (default 1000); they never expire by time. */
    maxValues?: number
    maxPeers?: number
    /** Cached lookup tables used by put/announce (LRU, 5 min max age); default 1000. */
    maxTables?: number
    /** A bucket unchanged this long gets its nodes pinged (default 15 min). */
    timeBucketOutdated?: number
    hash?: (data: Buffer) => Buffer
  }

  export interface PutOptions {
    v: Buffer
    /** Mutable item: Ed25519 public key (32 bytes). */
    k?: Buffer
    seq?: number
    salt?: Buffer
    cas?: number
    /** Signs the BEP 44 signable bytes ("4:salt…3:seqi…e1:v…"). */
    sign?: (message: Buffer) => Buffer
    sig?: Buffer
  }

  /** A verified get result (mutable: the highest `seq` among valid replies). */
  export interface GetResult {
    v: Buffer
    k?: Buffer
    sig?: Buffer
    seq?: number
    salt?: Buffer
    id?: Buffer
    token?: Buffer | null
  }

  export interface GetOptions {
    salt?: Buffer
    verify?: VerifyFunction
    /** false: skip this node's own stored copy and always ask the network. */
    cache?: boolean
  }

  export interface PeerEndpoint {
    host: string
    port: number
  }

  export default class DHT extends EventEmitter {
    constructor(options?: DhtOptions)
    readonly nodeId: Buffer
    /** The routing table (k-rpc's). */
    readonly nodes: KBucket<KrpcNode>
    listening: boolean
    /** Set once the first bootstrap lookup finished. */
    ready?: boolean
    destroyed: boolean
    _rpc: Krpc
    /** Stored BEP 44 items (an `lru` instance). */
    _values: { length: number }
    /** Announced peers (a `record-cache` instance). */
    _peers: { size: number }
    /**
     * Closest-node tables of past lookups (an `lru`, 5 min max age, keyed by target hex),
     * reused by put/announce instead of a new lookup — even when empty.
     */
    _tables: { remove(key: string): unknown }
    /** The id hash (SHA-1 unless `hash` was given): mutable target = hash(k ‖ salt). */
    _hash: (data: Buffer) => Buffer

    /**
     * Throws synchronously on bad options (v ≥ 1000 bytes, k not 32 bytes,
     * salt > 64 bytes, no seq or signer). Callback: error when every storing
     * node failed (the last 3xx error, e.g. 302 "sequence number less than
     * current", or "All queries failed"), else the number of nodes that stored it.
     */
    put(options: PutOptions, callback?: (error: Error | null, key: Buffer, stored?: number) => void): Buffer
    get(
      key: Uint8Array | string,
      options: GetOptions,
      callback: (error: Error | null, result: GetResult | null) => void,
    ): void
    get(key: Uint8Array | string, callback: (error: Error | null, result: GetResult | null) => void): void
    /** Port 0: `implied_port`, the receivers record the UDP source port. */
    announce(infoHash: Uint8Array | string, port: number, callback?: (error: Error | null) => void): void
    announce(infoHash: Uint8Array | string, callback?: (error: Error | null) => void): void
    /** get_peers walk; results arrive as `peer` events. Returns an abort function. */
    lookup(
      infoHash: Uint8Array | string,
      callback?: (error: Error | null, visited: number) => void,
    ): () => void
    addNode(node: { host: string; port: number; id?: Uint8Array | string }): void
    removeNode(id: Uint8Array | string): void
    address(): { address: string; family: string; port: number }
    listen(...args: unknown[]): void
    destroy(callback?: () => void): void
    toJSON(): { nodes: PeerEndpoint[]; values: Record<string, unknown> }

    on(event: 'ready' | 'listening' | 'close', listener: () => void): this
    on(event: 'peer', listener: (peer: PeerEndpoint, infoHash: Buffer, from: KrpcPeer | null) => void): this
    on(event: 'node', listener: (node: KrpcNode) => void): this
    on(event: 'announce', listener: (peer: PeerEndpoint, infoHash: Buffer, from: PeerEndpoint) => void): this
    on(event: 'error' | 'warning', listener: (error: Error) => void): this
    on(event: 'put', listener: (key: Buffer, v: Buffer) => void): this
  }
}

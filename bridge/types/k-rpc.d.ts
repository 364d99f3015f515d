/**
 * Typings for k-rpc 5.1 (node_modules/k-rpc/index.js) and the k-rpc-socket 1.x
 * it builds on: KRPC queries over a dgram-like socket plus a k-bucket routing
 * table. Only what the code base uses is declared, as the library behaves.
 */
declare module 'k-rpc' {
  import type { EventEmitter } from 'node:events'
  import type KBucket from 'k-bucket'

  export interface KrpcPeer {
    host: string
    port: number
  }

  /** A routing-table contact (ids are Buffers of `idLength` bytes). */
  export interface KrpcNode extends KrpcPeer {
    id: Buffer
    /** Write token from a previous `get`/`get_peers` reply, sent with put/announce. */
    token?: Buffer | null
    distance?: number
    /** Date.now() of the last query or reply seen from this node. */
    seen?: number
    vectorClock?: number
  }

  export interface KrpcRemoteInfo {
    address: string
    port: number
    family?: string
    size?: number
  }

  /** A decoded KRPC message; every field comes from the network, so check before use. */
  export interface KrpcMessage {
    t?: Buffer
    y?: Buffer | string
    q?: Buffer | string
    a?: Record<string, unknown>
    r?: Record<string, unknown>
    e?: unknown
  }

  export interface KrpcQuery {
    q: string
    a?: Record<string, unknown>
  }

  /** What k-rpc-socket needs from its `socket` option (node:dgram's Socket fits). */
  export interface DgramLike extends EventEmitter {
    send(
      buffer: Uint8Array,
      offset: number,
      length: number,
      port: number,
      host: string,
      callback?: (error: Error | null) => void,
    ): void
    bind(...args: unknown[]): void
    address(): { address: string; family: string; port: number }
    close(callback?: () => void): void
  }

  /** An error from a query: `code` is the KRPC error number, or 'ETIMEDOUT' / 'EUNEXPECTEDNODE'. */
  export type KrpcError = Error & { code?: number | string }

  export type QueryCallback = (
    error: KrpcError | null,
    response: KrpcMessage | null,
    peer: KrpcRemoteInfo | KrpcPeer,
  ) => void

  export interface KrpcOptions {
    /** Node id; default random `idLength` bytes. */
    id?: Uint8Array | string
    idLength?: number
    /**
     * Bootstrap peers ('host:port' or {host, port}); `false` or [] means none.
     * Always pass it: left out, k-rpc uses the public BitTorrent routers.
     */
    bootstrap: Array<string | KrpcPeer> | false
    /** Routing-table bucket size; default 20. */
    k?: number
    /** Parallel queries; default 16. */
    concurrency?: number
    backgroundConcurrency?: number
    /** Query timeout in ms (k-rpc-socket); a query fails after 1–1.25× this. Default 2000. */
    timeout?: number
    /** A dgram-like socket; default a fresh udp4 socket. */
    socket?: DgramLike
  }

  export interface KrpcSocket extends EventEmitter {
    /** Queries awaiting a reply. */
    inflight: number
    timeout: number
  }

  export interface Krpc extends EventEmitter {
    id: Buffer
    k: number
    concurrency: number
    bootstrap: KrpcPeer[]
    destroyed: boolean
    nodes: KBucket<KrpcNode>
    socket: KrpcSocket
    /** Queued queries waiting for a free slot. */
    pending: unknown[]
    query(node: KrpcPeer | KrpcNode, message: KrpcQuery, callback?: QueryCallback): void
    queryAll(
      nodes: KrpcNode[],
      message: KrpcQuery,
      visit: ((response: KrpcMessage, peer: KrpcRemoteInfo) => boolean | undefined) | null,
      callback: (error: KrpcError | null, hits: number) => void,
    ): void
    /** Iterative lookup towards `target`, filling the routing table (background priority). */
    populate(
      target: Uint8Array,
      message: KrpcQuery,
      callback?: (error: Error | null, count: number) => void,
    ): void
    closest(
      target: Uint8Array,
      message: KrpcQuery,
      visit: ((response: KrpcMessage, peer: KrpcRemoteInfo) => boolean | undefined) | null,
      callback?: (error: Error | null, count: number) => void,
    ): void
    response(
      peer: KrpcRemoteInfo,
      query: KrpcMessage,
      response: Record<string, unknown>,
      nodes?: KrpcNode[],
    ): void
    error(peer: KrpcRemoteInfo, query: KrpcMessage, error: [number, string]): void
    bind(...args: unknown[]): void
    address(): { address: string; family: string; port: number }
    destroy(callback?: () => void): void
    /** Replaces the routing table with an empty one. */
    clear(): void
  }

  /** Callable with or without `new`. */
  export default function krpc(options?: KrpcOptions): Krpc
}

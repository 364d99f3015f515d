import { createSocket, type RemoteInfo, type Socket } from 'node:dgram'
import { EventEmitter } from 'node:events'
import { defaultBackend } from '../crypto/default-backend.js'
import type { Logger } from '../log.js'
import { KRPC_FIRST_BYTE } from '../wire/link.js'
import { NetError } from './errors.js'

/**
 * One UDP socket per node carries both the DHT and the overlay. KRPC datagrams
 * are bencoded dictionaries and so always begin with 'd' (0x64); every overlay
 * format is built never to begin with that byte, so the first byte alone
 * decides where a datagram goes.
 */
export { KRPC_FIRST_BYTE }

export type PacketKind = 'krpc' | 'overlay'

/** Milliseconds since the epoch; injected so tests can move time by hand. */
export interface Clock {
  now(): number
}

/** `n` uniformly random bytes; injected so tests can be deterministic. */
export type RandomBytes = (n: number) => Uint8Array

export interface Endpoint {
  host: string
  port: number
}

export interface Rinfo {
  address: string
  port: number
  family: string
  size: number
}

export type OverlayHandler = (packet: Uint8Array, from: Rinfo) => void

export interface TrafficCounter {
  packetsIn: number
  bytesIn: number
  packetsOut: number
  bytesOut: number
}

/** Everything that crossed the socket, UDP payload bytes (IP/UDP headers not included). */
export interface UdpCounters {
  krpc: TrafficCounter
  overlay: TrafficCounter
  /** Zero-length datagrams: they belong to neither kind and are dropped. */
  emptyDropped: number
  sendErrors: number
  handlerErrors: number
}

export interface UdpNodeOptions {
  bind: Endpoint
  socketFactory?: () => Socket
  clock?: Clock
  random?: RandomBytes
  log: Logger
}

export interface UdpNode {
  readonly clock: Clock
  readonly random: RandomBytes
  readonly log: Logger
  start(): Promise<void>
  stop(): Promise<void>
  /** The bound address; throws NetError NOT_STARTED before start(). */
  address(): Endpoint
  /** Sends one overlay datagram. Its first byte must not be 0x64 (that would be read as KRPC). */
  send(packet: Uint8Array, port: number, host: string, callback?: (error: Error | null) => void): void
  /** Registers an overlay handler; returns a function that removes it. */
  onOverlay(handler: OverlayHandler): () => void
  /** A live view of the counters (copy it to keep a snapshot). */
  counters(): UdpCounters
  /** A dgram-like socket for k-rpc / bittorrent-dht that sees only KRPC datagrams. */
  krpcSocket(): KrpcSocket
}

/**
 * What k-rpc-socket calls on its `socket` option: on/removeListener (EventEmitter),
 * send(buf, offset, length, port, host, cb), bind(...), address(), close().
 * Closing the facade detaches the DHT; the node's socket stays open until
 * the node stops.
 */
export class KrpcSocket extends EventEmitter {
  #closed = false

  constructor(private readonly node: UdpNodeInternals) {
    super()
  }

  send(
    buffer: Uint8Array,
    offset: number,
    length: number,
    port: number,
    host: string,
    callback?: (error: Error | null) => void,
  ): void {
    if (this.#closed) {
      callback?.(new NetError('SOCKET_CLOSED', 'the KRPC socket facade is closed'))
      return
    }
    this.node.sendKind('krpc', buffer.subarray(offset, offset + length), port, host, callback)
  }

  /** bind([port], [address], [callback]): the node's socket is already bound by start(). */
  bind(...args: unknown[]): void {
    const callback = args.find((a): a is () => void => typeof a === 'function')
    if (callback) this.once('listening', callback)
    process.nextTick(() => this.emit('listening'))
  }

  address(): { address: string; family: string; port: number } {
    const { host, port } = this.node.address()
    return { address: host, family: 'IPv4', port }
  }

  close(callback?: () => void): void {
    if (this.#closed) return
    this.#closed = true
    this.node.detachKrpc(this)
    if (callback) this.once('close', callback)
    process.nextTick(() => this.emit('close'))
  }

  /** Delivers one KRPC datagram (called by the node's demultiplexer). */
  deliver(packet: Buffer, from: Rinfo): void {
    if (!this.#closed) this.emit('message', packet, from)
  }

  /** Socket errors reach k-rpc-socket, which sorts fatal from transient ones. */
  fail(error: Error): void {
    if (!this.#closed && this.listenerCount('error') > 0) this.emit('error', error)
  }
}

interface UdpNodeInternals {
  address(): Endpoint
  sendKind(
    kind: PacketKind,
    packet: Uint8Array,
    port: number,
    host: string,
    callback?: (error: Error | null) => void,
  ): void
  detachKrpc(facade: KrpcSocket): void
}

const newCounter = (): TrafficCounter => ({ packetsIn: 0, bytesIn: 0, packetsOut: 0, bytesOut: 0 })

const systemClock: Clock = { now: () => Date.now() }

export function createUdpNode(options: UdpNodeOptions): UdpNode {
  const log = options.log.child({ c: 'udp' })
  const clock = options.clock ?? systemClock
  const random = options.random ?? ((n: number) => defaultBackend.randomBytes(n))
  const socketFactory = options.socketFactory ?? (() => createSocket({ type: 'udp4' }))
  const counters: UdpCounters = {
    krpc: newCounter(),
    overlay: newCounter(),
    emptyDropped: 0,
    sendErrors: 0,
    handlerErrors: 0,
  }
  const overlayHandlers = new Set<OverlayHandler>()
  let socket: Socket | undefined
  let bound: Endpoint | undefined
  let krpc: KrpcSocket | undefined

  const internals: UdpNodeInternals = {
    address,
    sendKind,
    detachKrpc(facade) {
      if (krpc === facade) krpc = undefined
    },
  }

  function address(): Endpoint {
    if (!bound) throw new NetError('NOT_STARTED', 'the UDP node is not started')
    return bound
  }

  function sendKind(
    kind: PacketKind,
    packet: Uint8Array,
    port: number,
    host: string,
    callback?: (error: Error | null) => void,
  ): void {
    if (!socket) {
      callback?.(new NetError('NOT_STARTED', 'the UDP node is not started'))
      return
    }
    counters[kind].packetsOut++
    counters[kind].bytesOut += packet.length
    socket.send(packet, port, host, (error) => {
      if (error) {
        counters.sendErrors++
        log.debug({ err: error, host, port }, 'send failed')
      }
      callback?.(error ?? null)
    })
  }

  function onMessage(packet: Buffer, from: RemoteInfo): void {
    if (packet.length === 0) {
      counters.emptyDropped++
      return
    }
    const kind: PacketKind = packet[0] === KRPC_FIRST_BYTE ? 'krpc' : 'overlay'
    counters[kind].packetsIn++
    counters[kind].bytesIn += packet.length
    try {
      if (kind === 'krpc') krpc?.deliver(packet, from)
      else for (const handler of overlayHandlers) handler(packet, from)
    } catch (error) {
      // A handler bug must not take the socket down with it: count, log, go on.
      counters.handlerErrors++
      log.warn({ err: error, kind }, 'packet handler threw')
    }
  }

  async function start(): Promise<void> {
    if (socket) return
    const created = socketFactory()
    await new Promise<void>((resolve, reject) => {
      const fail = (error: Error) => {
        created.close()
        reject(
          new NetError(
            'BIND_FAILED',
            `cannot bind UDP ${options.bind.host}:${options.bind.port}: ${error.message}`,
          ),
        )
      }
      created.once('error', fail)
      created.bind(options.bind.port, options.bind.host, () => {
        created.off('error', fail)
        resolve()
      })
    })
    socket = created
    const local = created.address()
    bound = { host: local.address, port: local.port }
    created.on('message', onMessage)
    created.on('error', (error) => {
      log.warn({ err: error }, 'socket error')
      krpc?.fail(error)
    })
    log.debug({ address: bound }, 'listening')
  }

  async function stop(): Promise<void> {
    const closing = socket
    if (!closing) return
    socket = undefined
    bound = undefined
    await new Promise<void>((resolve) => closing.close(() => resolve()))
  }

  return {
    clock,
    random,
    log,
    start,
    stop,
    address,
    send(packet, port, host, callback) {
      if (packet[0] === KRPC_FIRST_BYTE) {
        throw new NetError('OVERLAY_FIRST_BYTE', 'an overlay packet must not begin with 0x64')
      }
      sendKind('overlay', packet, port, host, callback)
    },
    onOverlay(handler) {
      overlayHandlers.add(handler)
      return () => overlayHandlers.delete(handler)
    },
    counters: () => counters,
    krpcSocket() {
      krpc ??= new KrpcSocket(internals)
      return krpc
    },
  }
}

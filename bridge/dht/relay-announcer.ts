import type { CryptoBackend } from '../crypto/backend.js'
import type { Identity } from '../crypto/identity.js'
import type { Logger } from '../log.js'
import type { DescriptorProvider } from '../net/links.js'
import type { Clock, Endpoint } from '../net/udp-node.js'
import { signDescriptor } from '../wire/descriptor.js'
import type { DhtConfig, DhtNode } from './dht-node.js'
import { RELAY_INFO_HASH } from './relay-info-hash.js'

/** The overlay protocol version a descriptor advertises. */
export const PROTOCOL_VERSION = 1

export interface RelayAnnouncerOptions {
  dht: DhtNode
  nodeKey: Identity
  /** Where others reach this relay (the UDP node's public address or addresses). */
  endpoints: () => Endpoint[]
  capabilities: number
  /** Answers descriptor requests over the overlay (Links.serveDescriptor); returns a remover. */
  serveDescriptor: (provider: DescriptorProvider) => () => void
  config: DhtConfig
  clock: Clock
  backend: CryptoBackend
  log: Logger
}

export interface RelayAnnouncer {
  /** Serves the descriptor and announces now, then every dht.announceIntervalMs (announceRetryMs after a failure). */
  start(): Promise<void>
  stop(): void
  /** Announces now (after a rejoin, say); resolves false when no node took it. */
  announce(): Promise<boolean>
  /** The current signed descriptor, re-signed once half its lifetime has passed or the endpoints changed. */
  descriptor(): Uint8Array
}

/** The relay role: announce the relay info-hash in the DHT and answer descriptor requests on the overlay. */
export function createRelayAnnouncer(options: RelayAnnouncerOptions): RelayAnnouncer {
  const { dht, config, clock } = options
  const log = options.log.child({ c: 'relay-announce' })
  let current: { bytes: Uint8Array; refreshAt: number; endpoints: string } | undefined
  let timer: NodeJS.Timeout | undefined
  let unserve: (() => void) | undefined

  function descriptor(): Uint8Array {
    const now = clock.now()
    const endpoints = options.endpoints()
    const endpointsKey = JSON.stringify(endpoints)
    if (current && now < current.refreshAt && current.endpoints === endpointsKey) return current.bytes
    const bytes = signDescriptor(
      {
        nodeKey: options.nodeKey.publicKey,
        protocolVersion: PROTOCOL_VERSION,
        capabilities: options.capabilities,
        publishedAt: now,
        expiresAt: now + config.descriptorTtlMs,
        endpoints,
      },
      options.nodeKey.seed,
      options.backend,
    )
    current = { bytes, refreshAt: now + config.descriptorTtlMs / 2, endpoints: endpointsKey }
    return bytes
  }

  /** Announces now; resolves false when no node took it. */
  async function announce(): Promise<boolean> {
    try {
      await dht.announce(RELAY_INFO_HASH)
      return true
    } catch (error) {
      log.debug({ err: error }, 'announce failed')
      return false
    }
  }

  function schedule(delayMs: number): void {
    timer = setTimeout(async () => {
      if (!timer) return
      const ok = await announce()
      if (timer) schedule(ok ? config.announceIntervalMs : config.announceRetryMs)
    }, delayMs)
    timer.unref()
  }

  return {
    async start() {
      if (unserve) return
      unserve = options.serveDescriptor(descriptor)
      const ok = await announce()
      schedule(ok ? config.announceIntervalMs : config.announceRetryMs)
    },
    stop() {
      clearTimeout(timer)
      timer = undefined
      unserve?.()
      unserve = undefined
    },
    announce,
    descriptor,
  }
}

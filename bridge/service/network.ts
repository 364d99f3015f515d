import type { Config } from '../config/schema.js'
import type { Identity } from '../crypto/identity.js'
import { StampPool } from '../crypto/stamp-pool.js'
import { type NetworkNode, startNetworkNode } from '../dht/network-node.js'
import type { Logger } from '../log.js'
import { loadNodeKey } from '../net/node-key.js'
import { MailboxClient } from '../onion/mailbox-client.js'
import { networkHandoff } from '../onion/mailbox-handoff.js'
import { MailboxHolder } from '../onion/mailbox-holder.js'
import { OnionRouter } from '../onion/onion-router.js'
import { OnionService } from '../onion/onion-service.js'
import type { Store } from '../store/index.js'
import type { NetworkStatus } from './status.js'

/** Relays a node needs in its directory before it can build its tunnels and a path. */
function relaysNeeded(config: Config): number {
  const { inboundTunnels, inboundHops, outboundHops } = config.onion
  return Math.min(inboundTunnels * inboundHops, inboundTunnels + inboundHops) + outboundHops
}

const HOST_RETRY_MAX_MS = 30_000

/** The bridge's side of the network: its node (UDP, links, DHT, relay role) and its onion router. */
export interface BridgeNetwork {
  readonly node: NetworkNode
  readonly onion: OnionService
  /** Deposits, fetches and acks in others' mailboxes, through our own circuits. */
  readonly mailbox: MailboxClient
  /**
   * Makes `identity` reachable: builds its inbound tunnels and publishes its
   * record, retrying in the background until enough relays are known;
   * `reachable` is called once it is.
   */
  host(identity: Identity, reachable?: () => void): void
  /** Whether `host` succeeded for this address (its record is out). */
  reachable(address: Uint8Array): boolean
  /** Peers in the DHT routing table, known relays, tunnels, intro points (one per inbound tunnel), items held. */
  counts(): Omit<NetworkStatus, 'outbox'>
  stop(): Promise<void>
}

/**
 * Starts the network node and the onion router on it (a mailbox holder on the
 * bridge's store when it relays and `mailbox.hold` is on), and keeps the relay
 * directory filled (quickly while it is short of relays, then at the announce
 * interval).
 */
export async function startBridgeNetwork(config: Config, log: Logger, store: Store): Promise<BridgeNetwork> {
  const netLog = log.child({ c: 'network' })
  // A relay announces where others reach it; bound to every interface, that address is not known
  // (no public-address discovery yet), so such a node uses the network without relaying for others.
  const relay = config.net.host !== '0.0.0.0'
  if (!relay)
    netLog.info('not relaying for others: net.host is 0.0.0.0, so the address to announce is unknown')
  const node = await startNetworkNode({
    config,
    nodeKey: await loadNodeKey(config.net.nodeKeyFile),
    relay,
    log: netLog,
  })
  const holder =
    relay && config.mailbox.hold
      ? new MailboxHolder({ store, config: config.mailbox, log: netLog, now: () => node.udp.clock.now() })
      : undefined
  holder?.start()
  const router = new OnionRouter({
    links: node.links,
    nodeKey: node.nodeKey,
    config: config.onion,
    clock: node.udp.clock,
    random: node.udp.random,
    log: netLog,
    ...(holder ? { mailbox: holder } : {}),
  })
  router.start()
  const { directory, blinded, discovery } = node.service
  const onion = new OnionService({ router, directory, blinded, config: config.onion, log: netLog })
  // As the relays around a mailbox id change, the items we hold go on to those newly responsible.
  const handoff =
    holder &&
    networkHandoff({ holder, router, directory, onion: config.onion, config: config.mailbox, log: netLog })
  handoff?.start()
  const stamps = new StampPool({ workers: config.mailbox.stampWorkers })
  const mailbox = new MailboxClient({
    router,
    directory,
    onion: config.onion,
    config: config.mailbox,
    log: netLog,
    mint: (subject, difficulty) => stamps.mint(subject, difficulty),
    ...(holder ? { local: holder } : {}),
  })
  const hosted = new Set<string>()
  const hosting = new Map<string, NodeJS.Timeout>()
  let stopped = false
  let refreshTimer: NodeJS.Timeout | undefined
  let refreshing: Promise<unknown> | undefined

  const refreshDirectory = (): Promise<unknown> => {
    refreshing ??= discovery
      .refresh()
      .catch((error: unknown) => netLog.debug({ err: error }, 'relay discovery failed'))
      .finally(() => {
        refreshing = undefined
      })
    return refreshing
  }
  const scheduleRefresh = () => {
    if (stopped) return
    const short = directory.size < relaysNeeded(config)
    const delay = short ? config.dht.announceRetryMs : config.dht.announceIntervalMs
    refreshTimer = setTimeout(() => void refreshDirectory().then(scheduleRefresh), delay)
    refreshTimer.unref()
  }
  void refreshDirectory().then(scheduleRefresh)

  /** One attempt after `wait` ms; a failure schedules the next with a doubled back-off. */
  function tryHost(
    identity: Identity,
    key: string,
    wait: number,
    backoff: number,
    reachable?: () => void,
  ): void {
    const attempt = async () => {
      if (directory.size < relaysNeeded(config)) await refreshDirectory()
      try {
        await onion.host(identity)
        hosted.add(key)
        hosting.delete(key)
        netLog.info({ relays: directory.size }, 'identity reachable: tunnels built, record published')
        reachable?.()
      } catch (error) {
        if (stopped) return
        netLog.info({ err: error, retryInMs: backoff, relays: directory.size }, 'tunnels not built yet')
        onion.unhost(identity.publicKey)
        tryHost(identity, key, backoff, Math.min(backoff * 2, HOST_RETRY_MAX_MS), reachable)
      }
    }
    hosting.set(key, setTimeout(() => void attempt(), wait).unref())
  }

  function host(identity: Identity, reachable?: () => void): void {
    const key = Buffer.from(identity.publicKey).toString('hex')
    if (stopped || hosted.has(key) || hosting.has(key)) return
    tryHost(identity, key, 0, config.dht.announceRetryMs, reachable)
  }

  return {
    node,
    onion,
    mailbox,
    host,
    reachable: (address) => hosted.has(Buffer.from(address).toString('hex')),
    counts() {
      const tunnels = onion.counts()
      return {
        peers: node.service.status().nodes,
        relays: directory.size,
        tunnels,
        introPoints: tunnels.inbound,
        mailboxHeld: holder ? holder.held : null,
      }
    },
    async stop() {
      stopped = true
      clearTimeout(refreshTimer)
      for (const timer of hosting.values()) clearTimeout(timer)
      mailbox.stop()
      await stamps.stop()
      handoff?.stop()
      holder?.stop()
      onion.stop()
      router.stop()
      await refreshing
      await node.stop()
    },
  }
}

import { type OnionConfig, onionSection } from '../../bridge/config/sections/onion.js'
import { defaultBackend } from '../../bridge/crypto/default-backend.js'
import { createRelayDirectory, type RelayDirectory } from '../../bridge/dht/relay-directory.js'
import { silentLogger } from '../../bridge/log.js'
import type { RelayTarget } from '../../bridge/onion/host.js'
import { OnionRouter } from '../../bridge/onion/onion-router.js'
import { Capability, decodeDescriptor, signDescriptor } from '../../bridge/wire/descriptor.js'
import { startTestNode, type TestNode } from '../net/helpers.js'

export interface OnionTestNode extends TestNode {
  router: OnionRouter
  target: RelayTarget
  /** Every byte string this node handled as a relay after removing its own layer. */
  relayView: Uint8Array[]
}

/** A short-timer onion config for tests. */
export function testOnionConfig(overrides: Partial<OnionConfig> = {}): OnionConfig {
  return { ...onionSection.parse({}), replyTimeoutMs: 2000, ...overrides }
}

/** `count` real nodes on 127.0.0.1 (UDP socket, links, onion router each). */
export async function startOnionNodes(
  count: number,
  overrides: Partial<OnionConfig> = {},
): Promise<OnionTestNode[]> {
  const config = testOnionConfig(overrides)
  return Promise.all(
    Array.from({ length: count }, async () => {
      const base = await startTestNode({ handshakesPerSecondPerHost: 1000 })
      const relayView: Uint8Array[] = []
      const router = new OnionRouter({
        links: base.links,
        nodeKey: base.identity,
        config,
        clock: base.node.clock,
        random: base.node.random,
        log: silentLogger,
        observeRelay: (bytes) => relayView.push(bytes.slice()),
      })
      router.start()
      const node: OnionTestNode = {
        ...base,
        router,
        relayView,
        target: { nodeKey: base.identity.publicKey, endpoint: base.node.address() },
        async stop() {
          router.stop()
          await base.stop()
        },
      }
      return node
    }),
  )
}

export const stopAll = (nodes: OnionTestNode[]) => Promise.all(nodes.map((n) => n.stop()))

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** A relay directory listing `relays` with real signed descriptors (what relay discovery would fill in). */
export function directoryOf(relays: OnionTestNode[]): RelayDirectory {
  const directory = createRelayDirectory(
    { relayStaleMs: 3_600_000, minRelayScore: -5, distinctSubnets: false },
    defaultBackend.randomBytes,
  )
  const now = Date.now()
  for (const relay of relays) {
    const endpoint = relay.node.address()
    const bytes = signDescriptor(
      {
        nodeKey: relay.identity.publicKey,
        protocolVersion: 1,
        capabilities: Capability.relay | Capability.introPoint,
        publishedAt: now,
        expiresAt: now + 3_600_000,
        endpoints: [endpoint],
      },
      relay.identity.seed,
    )
    directory.upsert(decodeDescriptor(bytes), endpoint, now)
  }
  return directory
}

import assert from 'node:assert/strict'
import type { CryptoBackend } from '../../bridge/crypto/backend.js'
import { defaultBackend } from '../../bridge/crypto/default-backend.js'
import type { Identity } from '../../bridge/crypto/identity.js'
import { generateIdentity } from '../../bridge/crypto/identity.js'
import { createDhtNode, type DhtNode } from '../../bridge/dht/dht-node.js'
import { dhtNodeId } from '../../bridge/dht/node-id.js'
import type { RecordSigner } from '../../bridge/dht/records.js'
import type { Testnet } from '../../bridge/dht/testnet.js'
import { silentLogger } from '../../bridge/log.js'
import { createUdpNode, type UdpNode } from '../../bridge/net/udp-node.js'

/** Test-speed DHT timers on top of config/testnet.toml. */
export const FAST = { queryTimeoutMs: 500, announceRetryMs: 300 }

export function signerOf(identity: Identity, backend: CryptoBackend = defaultBackend): RecordSigner {
  return { publicKey: identity.publicKey, sign: (message) => backend.ed25519Sign(identity.seed, message) }
}

export async function waitUntil(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    assert.ok(Date.now() < deadline, `timed out waiting for: ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

/** Until every node's relay directory lists every other node of the testnet (discovery asked again each try). */
export function allRelaysListed(net: Testnet, timeoutMs = 30_000): Promise<void> {
  return waitUntil(
    'every directory lists the other relays',
    async () => {
      await net.discoverRelays()
      return net.nodes.every((node) => node.service.directory.size === net.nodes.length - 1)
    },
    timeoutMs,
  )
}

export interface HostileNode {
  udp: UdpNode
  dht: DhtNode
  stop(): Promise<void>
}

/** A DHT node that stores and returns anything (verify always true): the adversary of the refusal tests. */
export async function startHostileNode(net: Testnet): Promise<HostileNode> {
  const udp = createUdpNode({ bind: { host: '127.0.0.1', port: 0 }, log: silentLogger })
  await udp.start()
  const dht = createDhtNode({
    udp,
    id: dhtNodeId(generateIdentity().publicKey),
    config: net.config,
    verify: () => true,
    log: silentLogger,
  })
  await dht.start()
  return {
    udp,
    dht,
    async stop() {
      await dht.stop()
      await udp.stop()
    },
  }
}

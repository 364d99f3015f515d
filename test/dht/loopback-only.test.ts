import assert from 'node:assert/strict'
import { createSocket } from 'node:dgram'
import dns from 'node:dns'
import { isIP } from 'node:net'
import { it } from 'node:test'
import { defaultConfig } from '../../bridge/config/schema.js'
import { generateIdentity } from '../../bridge/crypto/index.js'
import { createDhtNode } from '../../bridge/dht/dht-node.js'
import { dhtNodeId } from '../../bridge/dht/node-id.js'
import { silentLogger } from '../../bridge/log.js'
import { createUdpNode } from '../../bridge/net/udp-node.js'

/**
 * k-rpc falls back to the public BitTorrent routers when its bootstrap list is
 * `false` or missing, and queries them from any lookup that knows too few nodes.
 * A node with an empty bootstrap list must never send a datagram anywhere, nor
 * resolve a name (k-rpc-socket resolves the routers' names itself before sending).
 */
it('a DHT node with an empty bootstrap list sends nothing, even on lookups while isolated', async () => {
  const destinations: string[] = []
  const lookup = dns.lookup
  // k-rpc-socket calls dns.lookup on the shared CommonJS module object, so this sees its lookups.
  dns.lookup = ((host: string, ...rest: unknown[]) => {
    if (!isIP(host)) destinations.push(`dns:${host}`) // dgram's bind looks up its own IP literal
    return (lookup as (...args: unknown[]) => unknown)(host, ...rest)
  }) as typeof dns.lookup
  const udp = createUdpNode({
    bind: { host: '127.0.0.1', port: 0 },
    log: silentLogger,
    socketFactory: () => {
      const socket = createSocket({ type: 'udp4' })
      const send = socket.send.bind(socket) as (...args: unknown[]) => void
      socket.send = ((...args: unknown[]) => {
        const [port, host] = args.filter((a) => typeof a === 'number' || typeof a === 'string').slice(-2)
        destinations.push(`${host}:${port}`)
        send(...args)
      }) as typeof socket.send
      return socket
    },
  })
  await udp.start()
  const config = { ...defaultConfig().dht, bootstrap: [], queryTimeoutMs: 200 }
  const dht = createDhtNode({
    udp,
    id: dhtNodeId(generateIdentity().publicKey),
    config,
    verify: () => true,
    log: silentLogger,
  })
  try {
    await dht.start()
    await dht.getMutable(new Uint8Array(32).fill(7)).catch(() => undefined)
    await dht.rejoin()
    assert.deepEqual(destinations, [])
  } finally {
    dns.lookup = lookup
    await dht.stop()
    await udp.stop()
  }
})

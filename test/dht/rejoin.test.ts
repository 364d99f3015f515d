import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { loadConfig } from '../../bridge/config/load.js'
import { generateIdentity } from '../../bridge/crypto/index.js'
import { startNetworkNode } from '../../bridge/dht/network-node.js'
import { startTestnet, TESTNET_CONFIG, type Testnet } from '../../bridge/dht/testnet.js'
import { silentLogger } from '../../bridge/log.js'
import { RecordKind } from '../../bridge/wire/record.js'
import { FAST, signerOf, waitUntil } from './helpers.js'

const text = (s: string) => new TextEncoder().encode(s)
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

describe('network changes', () => {
  let net: Testnet
  before(async () => {
    net = await startTestnet({ nodes: 8, dht: FAST })
  })
  after(async () => {
    await net.stop()
  })

  it('a node whose socket closes and reopens elsewhere rejoins without a restart', async () => {
    const mobile = net.nodes[5]!
    const owner = generateIdentity()
    await net.nodes[1]!.service.records.publish({
      signer: signerOf(owner),
      kind: RecordKind.signed,
      body: text('before'),
    })

    await mobile.udp.stop()
    await mobile.udp.start() // bound to port 0 again: a new address, as after a network change
    const moved = mobile.udp.address()
    assert.notEqual(moved.port, mobile.endpoint.port)
    const joins = mobile.service.status().joins
    mobile.watch.emit('rejoin', 'addresses-changed') // what NetworkWatch emits when the interfaces change
    await waitUntil('the rejoin ran', () => mobile.service.status().joins > joins)

    assert.deepEqual((await mobile.service.records.fetch(owner.publicKey))?.body, text('before'))
    const mine = generateIdentity()
    await mobile.service.records.publish({
      signer: signerOf(mine),
      kind: RecordKind.signed,
      body: text('after'),
    })
    assert.deepEqual((await net.nodes[2]!.service.records.fetch(mine.publicKey))?.body, text('after'))
    const id = hex(mobile.nodeKey.publicKey)
    await waitUntil('others find the relay at its new endpoint', async () => {
      await net.nodes[2]!.service.discovery.refresh()
      return net.nodes[2]!.service.directory.get(id)?.endpoint.port === moved.port
    })
  })

  it('rejoins when its last link drops', async () => {
    const node = net.nodes[6]!
    const peer = net.nodes[7]!
    const link = await node.links.connect(peer.nodeKey.publicKey, peer.endpoint)
    assert.equal(link.state, 'up')
    link.send(Uint8Array.of(1)) // the responder's side of the link is up from the first data packet
    const fromNode = (l: { state: string; endpoint: { port: number } }) =>
      l.state === 'up' && l.endpoint.port === node.endpoint.port
    await waitUntil('the peer holds the link', () => peer.links.list().some(fromNode), 5000)
    const joins = node.service.status().joins
    // Every other node closes its links (telling each peer): node 6 is left with none.
    for (const other of net.nodes) if (other !== node) other.links.stop()
    await waitUntil('the all-links-down rejoin ran', () => node.service.status().joins > joins, 5000)
  })

  it('a node started while its bootstrap node is unreachable joins once it answers', async () => {
    const dead = net.nodes[1]!
    await dead.stop() // nothing answers at its address now
    const netConfig = loadConfig({ files: [TESTNET_CONFIG] }).net
    const joiningThrough = (endpoint: { host: string; port: number }) => ({
      net: netConfig,
      dht: { ...net.config, bootstrap: [`${endpoint.host}:${endpoint.port}`], rejoinRetryMs: 300 },
    })
    const late = await startNetworkNode({
      config: joiningThrough(dead.endpoint),
      relay: false, // no announce retries: only the rejoin retry may bring it in
      nodeKey: generateIdentity(),
      bind: { host: '127.0.0.1', port: 0 },
      log: silentLogger,
    })
    try {
      assert.equal(late.service.status().nodes, 0, 'isolated at start')
      // A node comes up at the bootstrap address (joined to the testnet itself).
      const revived = await startNetworkNode({
        config: joiningThrough(net.bootstrap),
        nodeKey: generateIdentity(),
        bind: dead.endpoint,
        log: silentLogger,
      })
      try {
        await waitUntil('the late node joined through it', () => late.service.status().nodes > 1, 10_000)
      } finally {
        await revived.stop()
      }
    } finally {
      await late.stop()
    }
  })
})

import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { defaultConfig } from '../../bridge/config/schema.js'
import { generateIdentity, type Identity, nativeBackend } from '../../bridge/crypto/index.js'
import { RelayDescriptorError } from '../../bridge/dht/errors.js'
import { dhtNodeId } from '../../bridge/dht/node-id.js'
import { createRelayDirectory } from '../../bridge/dht/relay-directory.js'
import { verifyFetchedDescriptor } from '../../bridge/dht/relay-discovery.js'
import { startTestnet, type Testnet } from '../../bridge/dht/testnet.js'
import { silentLogger } from '../../bridge/log.js'
import { createLinks } from '../../bridge/net/links.js'
import { createUdpNode, type Endpoint } from '../../bridge/net/udp-node.js'
import {
  Capability,
  type DescriptorFields,
  decodeDescriptor,
  signDescriptor,
} from '../../bridge/wire/descriptor.js'
import { FAST } from './helpers.js'

const HOUR = 3_600_000
const now = 1_800_000_000_000
const random = (n: number) => nativeBackend.randomBytes(n)

function relay(host: string, options: Partial<DescriptorFields> = {}) {
  const key = generateIdentity()
  const fields: DescriptorFields = {
    nodeKey: key.publicKey,
    protocolVersion: 1,
    capabilities: Capability.relay,
    publishedAt: now - HOUR,
    expiresAt: now + HOUR,
    endpoints: [{ host, port: 4000 }],
    ...options,
  }
  const bytes = signDescriptor(fields, key.seed)
  return { key, bytes, descriptor: decodeDescriptor(bytes), endpoint: { host, port: 4000 } }
}

describe('relay directory', () => {
  const policy = { relayStaleMs: HOUR, minRelayScore: -5, distinctSubnets: true }
  const hosts = ['10.1.0.1', '10.1.0.2', '10.1.7.9', '10.2.0.1', '10.3.0.1']

  function filled(distinctSubnets: boolean) {
    const directory = createRelayDirectory({ ...policy, distinctSubnets }, random)
    for (const host of hosts) {
      const r = relay(host)
      directory.upsert(r.descriptor, r.endpoint, now)
    }
    return directory
  }
  const subnets = (entries: { endpoint: { host: string } }[]) =>
    new Set(entries.map((e) => e.endpoint.host.split('.').slice(0, 2).join('.')))

  it('never picks two relays of one /16 when distinct subnets are required', () => {
    const directory = filled(true)
    for (let i = 0; i < 20; i++) {
      const chosen = directory.select(3)
      assert.equal(chosen.length, 3)
      assert.equal(subnets(chosen).size, 3)
    }
    assert.equal(directory.select(5).length, 3, 'only three /16 networks exist')
  })

  it('prefers distinct /16s but fills up from shared ones on a testnet', () => {
    const directory = filled(false)
    const chosen = directory.select(4)
    assert.equal(chosen.length, 4)
    assert.equal(subnets(chosen).size, 3)
    assert.equal(new Set(chosen.map((e) => e.id)).size, 4)
  })

  it('skips relays with a bad reputation and excluded ones', () => {
    const directory = filled(false)
    const [bad, excluded] = directory.list()
    directory.report(bad!.id, -6)
    const chosen = directory.select(10, { exclude: [excluded!.id] })
    assert.equal(chosen.length, 3)
    assert.ok(!chosen.some((e) => e.id === bad!.id || e.id === excluded!.id))
    directory.report(bad!.id, +2)
    assert.ok(
      directory.select(10).some((e) => e.id === bad!.id),
      'a score back above the floor is usable again',
    )
  })

  it('forgets expired descriptors and relays not seen for a while; liveness keeps them', () => {
    const directory = createRelayDirectory(policy, random)
    const short = relay('10.9.0.1', { expiresAt: now + 60_000 })
    const quiet = relay('10.8.0.1')
    const alive = relay('10.7.0.1', { expiresAt: now + 3 * HOUR })
    for (const r of [short, quiet, alive]) directory.upsert(r.descriptor, r.endpoint, now)
    directory.seen(Buffer.from(alive.key.publicKey).toString('hex'), now + HOUR)
    assert.equal(
      directory.select(3, { now: now + 120_000 }).length,
      2,
      'an expired descriptor is never selected',
    )
    assert.equal(directory.prune(now + HOUR + 1), 2)
    assert.deepEqual(
      directory.list().map((e) => e.id),
      [Buffer.from(alive.key.publicKey).toString('hex')],
    )
  })
})

describe('verifying a fetched descriptor', () => {
  const context = { now, clockSkewMs: 0, backend: nativeBackend }
  const code = (f: () => unknown) => {
    try {
      f()
      return 'accepted'
    } catch (e) {
      assert.ok(e instanceof RelayDescriptorError)
      return e.code
    }
  }
  const r = relay('192.0.2.1')
  const good = { bytes: r.bytes, responderStatic: r.key.x25519PublicKey }
  const id = dhtNodeId(r.key.publicKey)

  it('accepts a good one and refuses each defect with its own code', () => {
    assert.equal(
      code(() => verifyFetchedDescriptor(good, r.endpoint, context)),
      'accepted',
    )
    assert.equal(
      code(() => verifyFetchedDescriptor(good, r.endpoint, { ...context, knownNodeId: id })),
      'accepted',
    )
    const otherEndpoint = { host: '192.0.2.99', port: 4000 }
    assert.equal(
      code(() => verifyFetchedDescriptor(good, otherEndpoint, context)),
      'DESCRIPTOR_ENDPOINT_MISMATCH',
    )
    assert.equal(
      code(() => verifyFetchedDescriptor(good, r.endpoint, { ...context, knownNodeId: new Uint8Array(20) })),
      'DESCRIPTOR_NODE_ID_MISMATCH',
    )
    assert.equal(
      code(() =>
        verifyFetchedDescriptor(
          { ...good, responderStatic: generateIdentity().x25519PublicKey },
          r.endpoint,
          context,
        ),
      ),
      'DESCRIPTOR_KEY_MISMATCH',
    )
    assert.equal(
      code(() => verifyFetchedDescriptor(good, r.endpoint, { ...context, now: now + 2 * HOUR })),
      'DESCRIPTOR_EXPIRED',
    )
    const tampered = r.bytes.slice()
    tampered[40]! ^= 1
    assert.equal(
      code(() => verifyFetchedDescriptor({ ...good, bytes: tampered }, r.endpoint, context)),
      'DESCRIPTOR_INVALID',
    )
    const client = relay('192.0.2.1', { capabilities: Capability.mailbox })
    assert.equal(
      code(() =>
        verifyFetchedDescriptor(
          { bytes: client.bytes, responderStatic: client.key.x25519PublicKey },
          client.endpoint,
          context,
        ),
      ),
      'DESCRIPTOR_NOT_RELAY',
    )
  })
})

describe('descriptor requests on a live testnet', () => {
  let net: Testnet
  before(async () => {
    net = await startTestnet({ nodes: 5, dht: FAST })
  })
  after(async () => {
    await net.stop()
  })

  /** A node on the overlay that serves what `descriptor` makes, under a key of its own. */
  async function startImpostor(descriptor: (key: Identity, endpoint: Endpoint) => Uint8Array) {
    const udp = createUdpNode({ bind: { host: '127.0.0.1', port: 0 }, log: silentLogger })
    await udp.start()
    const key = generateIdentity()
    const links = createLinks({
      node: udp,
      nodeKey: key,
      config: { ...defaultConfig().net, host: '127.0.0.1' },
    })
    links.start()
    links.serveDescriptor(() => descriptor(key, udp.address()))
    return {
      endpoint: udp.address(),
      async stop() {
        links.stop()
        await udp.stop()
      },
    }
  }
  const refusedWith = (code: string) => (e: unknown) => e instanceof RelayDescriptorError && e.code === code
  const ownDescriptor = (key: Identity, endpoint: Endpoint) =>
    signDescriptor(
      {
        nodeKey: key.publicKey,
        protocolVersion: 1,
        capabilities: Capability.relay,
        publishedAt: Date.now(),
        expiresAt: Date.now() + HOUR,
        endpoints: [endpoint],
      },
      key.seed,
    )

  it('refuses a node serving another relay’s descriptor, or its own for another endpoint', async () => {
    const asker = net.nodes[2]!.service
    const replayer = await startImpostor(() => net.nodes[1]!.service.announcer!.descriptor())
    const elsewhere = await startImpostor((key, at) => ownDescriptor(key, { ...at, port: at.port + 1 }))
    const honest = await startImpostor(ownDescriptor)
    try {
      await assert.rejects(asker.discovery.check(replayer.endpoint), refusedWith('DESCRIPTOR_KEY_MISMATCH'))
      await assert.rejects(
        asker.discovery.check(elsewhere.endpoint),
        refusedWith('DESCRIPTOR_ENDPOINT_MISMATCH'),
      )
      assert.equal(asker.directory.size, 0)
      await asker.discovery.check(honest.endpoint)
      assert.equal(asker.directory.size, 1, 'the same node with a true descriptor is listed')
    } finally {
      for (const impostor of [replayer, elsewhere, honest]) await impostor.stop()
    }
  })

  it('fetches and verifies a good relay’s descriptor over the overlay, with no link', async () => {
    const target = net.nodes[3]!
    const served = target.links.counters().received.descriptorRequests
    const descriptor = await net.nodes[0]!.service.discovery.check(target.endpoint)
    assert.deepEqual(descriptor.nodeKey, target.nodeKey.publicKey)
    assert.equal(target.links.counters().received.descriptorRequests, served + 1)
  })

  it('gives up on an endpoint where nothing answers', async () => {
    const udp = createUdpNode({ bind: { host: '127.0.0.1', port: 0 }, log: silentLogger })
    await udp.start()
    try {
      await assert.rejects(
        net.nodes[0]!.service.discovery.check(udp.address()),
        refusedWith('DESCRIPTOR_FETCH'),
      )
    } finally {
      await udp.stop()
    }
  })
})

describe('announcing', () => {
  it('a node that announced while alone reaches the network once others joined', async () => {
    const net = await startTestnet({ nodes: 1, dht: FAST })
    try {
      const first = net.nodes[0]!
      assert.equal(await first.service.announcer!.announce(), false, 'alone: nobody takes it')
      const second = await net.addNode()
      // bittorrent-dht caches the (empty) lookup of the first announce for 5 minutes; we must not reuse it.
      assert.equal(await first.service.announcer!.announce(), true)
      const found = await second.service.discovery.refresh()
      assert.equal(found.verified, 1)
      assert.ok(second.service.directory.get(Buffer.from(first.nodeKey.publicKey).toString('hex')))
    } finally {
      await net.stop()
    }
  })
})

import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { defaultConfig } from '../../bridge/config/schema.js'
import { onionSection } from '../../bridge/config/sections/onion.js'
import { defaultBackend } from '../../bridge/crypto/default-backend.js'
import { generateIdentity, type Identity } from '../../bridge/crypto/identity.js'
import { silentLogger } from '../../bridge/log.js'
import type { Link } from '../../bridge/net/link.js'
import { createLinks, type Links } from '../../bridge/net/links.js'
import { createUdpNode, type UdpNode } from '../../bridge/net/udp-node.js'
import type { RelayTarget } from '../../bridge/onion/host.js'
import { applyLayer, sealEnd } from '../../bridge/onion/layers.js'
import { builderFinish, hopRespond } from '../../bridge/onion/ntor.js'
import { OnionRouter } from '../../bridge/onion/onion-router.js'
import { CELL_BODY_LENGTH, CELL_LENGTH, decodeCell, encodeCell } from '../../bridge/wire/cell.js'
import { encodeRelayMessage } from '../../bridge/wire/relay-message.js'
import { type BenchRow, type BenchSuite, opsPerSecond, percentile } from '../harness.js'

/**
 * Onion figures: a middle relay's forwarding work on one core (decode, replay
 * window, its layer, encode; links stubbed so only the onion layer counts),
 * relay memory per 1,000 circuits, and over real loopback sockets: circuit
 * build time and the one-way latency of an introduced cell over
 * 2 hops + intro + 2 hops.
 */
const config = { ...onionSection.parse({}), maxRelayCircuits: 1_000_000 }
const backend = defaultBackend

/** A link that only records what is sent on it (the benchmark measures the onion layer, not UDP). */
function stubLink(port: number): Link & { sent: Uint8Array[] } {
  const sent: Uint8Array[] = []
  return {
    role: 'responder',
    peerKey: undefined,
    state: 'up',
    endpoint: { host: '127.0.0.1', port },
    stats: {
      packetsIn: 0,
      packetsOut: 0,
      bytesIn: 0,
      bytesOut: 0,
      handshakes: 0,
      lastReceivedAt: 0,
      lastSentAt: 0,
    },
    sent,
    send(payload) {
      if (sent.length < 16) sent.push(payload)
    },
    close() {},
  }
}

/** A relay whose links are stubs: `connect` hands out `next`. */
function stubRelay(nodeKey: Identity, next: Link): OnionRouter {
  const links = { connect: async () => next, onMessage: () => () => {}, on() {}, off() {} }
  return new OnionRouter({
    links: links as unknown as Links,
    nodeKey,
    config,
    clock: { now: () => Date.now() },
    random: backend.randomBytes,
    log: silentLogger,
  })
}

/** Makes the stub relay a middle hop (CREATE from prev, EXTEND to next) and returns the prev-side id. */
async function middleHop(
  relay: OnionRouter,
  key: Identity,
  prev: ReturnType<typeof stubLink>,
  next: ReturnType<typeof stubLink>,
) {
  const x = backend.randomBytes(32)
  relay.handle(
    encodeCell({
      command: 'create',
      circuitId: 1,
      sequence: 0,
      nodeKey: key.publicKey,
      ephemeral: backend.x25519PublicKey(x),
    }),
    prev,
  )
  const created = decodeCell(prev.sent.shift()!)
  if (created.command !== 'created') throw new Error('no CREATED')
  const keys = builderFinish(backend, x, key.publicKey, created.ephemeral, created.auth)
  const nextKey = generateIdentity()
  const x2 = backend.randomBytes(32)
  const extend = encodeRelayMessage({
    command: 'extend',
    nodeKey: nextKey.publicKey,
    host: '127.0.0.1',
    port: 2,
    ephemeral: backend.x25519PublicKey(x2),
  })
  const body = applyLayer(backend, keys.forward, 0, sealEnd(backend, keys.endToEnd, 'forward', 0, extend))
  relay.handle(encodeCell({ command: 'relay', circuitId: 1, sequence: 0, body }), prev)
  await new Promise((resolve) => setTimeout(resolve, 0))
  const create = decodeCell(next.sent.shift()!)
  if (create.command !== 'create') throw new Error('no CREATE to the next hop')
  const reply = hopRespond(backend, nextKey, create.ephemeral, backend.randomBytes(32))
  relay.handle(
    encodeCell({
      command: 'created',
      circuitId: create.circuitId,
      sequence: 0,
      ephemeral: reply.ephemeral,
      auth: reply.auth,
    }),
    next,
  )
}

async function forwarding(): Promise<BenchRow[]> {
  const key = generateIdentity()
  const prev = stubLink(1)
  const next = stubLink(2)
  const relay = stubRelay(key, next)
  await middleHop(relay, key, prev, next)
  // One cell, its sequence number rewritten in place each time (a replay would be dropped, not forwarded).
  const cell = encodeCell({
    command: 'relay',
    circuitId: 1,
    sequence: 1,
    body: backend.randomBytes(CELL_BODY_LENGTH),
  })
  const view = new DataView(cell.buffer)
  let sequence = 1
  const cellsPerSecond = await opsPerSecond(() => {
    view.setBigUint64(6, BigInt(sequence++))
    relay.handle(cell, prev)
  }, 1000)
  if (relay.counters.cellsForwarded < 1000) throw new Error('the relay did not forward')
  return [
    { metric: 'relay forwarding (middle hop, 1 core)', value: cellsPerSecond, unit: 'cells/s' },
    {
      metric: 'relay forwarding (middle hop, 1 core)',
      value: (cellsPerSecond * CELL_LENGTH) / 1e6,
      unit: 'MB/s',
    },
  ]
}

async function memoryPerThousand(): Promise<BenchRow[]> {
  const key = generateIdentity()
  const prev = stubLink(1)
  const relay = stubRelay(key, stubLink(2))
  const count = 20_000
  const x = backend.x25519PublicKey(backend.randomBytes(32))
  setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc') as () => void
  gc()
  const before = process.memoryUsage()
  for (let id = 1; id <= count; id++)
    relay.handle(
      encodeCell({ command: 'create', circuitId: id, sequence: 0, nodeKey: key.publicKey, ephemeral: x }),
      prev,
    )
  gc()
  const after = process.memoryUsage()
  if (relay.relay.circuitCount !== count) throw new Error('circuits missing')
  relay.stop()
  return [
    {
      metric: 'relay heap per 1,000 circuits',
      value: ((after.heapUsed - before.heapUsed) * 1000) / count / 1024,
      unit: 'KiB',
    },
    {
      metric: 'relay RSS per 1,000 circuits',
      value: ((after.rss - before.rss) * 1000) / count / 1024,
      unit: 'KiB',
    },
  ]
}

interface Node {
  udp: UdpNode
  links: Links
  router: OnionRouter
  target: RelayTarget
}

async function startNodes(count: number): Promise<Node[]> {
  const net = {
    ...defaultConfig().net,
    host: '127.0.0.1',
    handshakesPerSecondPerHost: 10_000,
    handshakesPerSecond: 10_000,
  }
  return Promise.all(
    Array.from({ length: count }, async () => {
      const udp = createUdpNode({ bind: { host: '127.0.0.1', port: 0 }, log: silentLogger })
      await udp.start()
      const nodeKey = generateIdentity()
      const links = createLinks({ node: udp, nodeKey, config: net })
      links.start()
      const router = new OnionRouter({
        links,
        nodeKey,
        config,
        clock: udp.clock,
        random: udp.random,
        log: silentLogger,
      })
      router.start()
      return { udp, links, router, target: { nodeKey: nodeKey.publicKey, endpoint: udp.address() } }
    }),
  )
}

async function overLoopback(): Promise<BenchRow[]> {
  // 0 = receiver, 1 = sender, 2..3 receiver's hops, 4 intro, 5..6 sender's hops.
  const nodes = await startNodes(7)
  const [receiver, sender, m1, m2, intro, o1, o2] = nodes as [Node, Node, Node, Node, Node, Node, Node]
  try {
    const builds: number[] = []
    for (let i = 0; i < 100; i++) {
      const start = performance.now()
      const circuit = await sender.router.buildCircuit([o1.target, o2.target, intro.target])
      builds.push(performance.now() - start)
      circuit.destroy()
    }
    const auth = generateIdentity()
    const inbound = await receiver.router.buildCircuit([m2.target, m1.target, intro.target])
    await inbound.registerIntro(auth.seed)
    const outbound = await sender.router.buildCircuit([o1.target, o2.target, intro.target])
    const latencies: number[] = []
    let arrived: (() => void) | undefined
    inbound.on('introduced', () => arrived?.())
    const payload = backend.randomBytes(512)
    for (let i = 0; i < 300; i++) {
      const start = performance.now()
      const done = new Promise<void>((resolve) => {
        arrived = resolve
      })
      outbound.send({ command: 'introduce', authKey: auth.publicKey, payload })
      await done
      latencies.push(performance.now() - start)
    }
    return [
      { metric: 'circuit build, 3 hops (p50)', value: percentile(builds, 50), unit: 'ms' },
      { metric: 'circuit build, 3 hops (p99)', value: percentile(builds, 99), unit: 'ms' },
      {
        metric: 'one-way latency, 2 hops + intro + 2 hops (p50)',
        value: percentile(latencies, 50),
        unit: 'ms',
      },
      {
        metric: 'one-way latency, 2 hops + intro + 2 hops (p99)',
        value: percentile(latencies, 99),
        unit: 'ms',
      },
    ]
  } finally {
    for (const node of nodes) {
      node.router.stop()
      node.links.stop()
      await node.udp.stop()
    }
  }
}

const suite: BenchSuite = {
  name: 'onion',
  async run() {
    return [...(await forwarding()), ...(await memoryPerThousand()), ...(await overLoopback())]
  },
}

export default suite

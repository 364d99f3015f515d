import { defaultBackend } from '../../bridge/crypto/default-backend.js'
import { generateIdentity } from '../../bridge/crypto/identity.js'
import { startTestnet, type Testnet } from '../../bridge/dht/testnet.js'
import { RecordKind } from '../../bridge/wire/record.js'
import { type BenchRow, type BenchSuite, percentile } from '../harness.js'

/**
 * Idle window: longer than the testnet's announce and republish intervals (30 s) and the
 * links' keepalive interval (15 s), so all of them are counted.
 */
const IDLE_WINDOW_MS = 35_000
const SAMPLES = 20

async function converged(net: Testnet, deadlineMs: number): Promise<void> {
  const want = Math.min(net.nodes.length - 1, net.config.k)
  const deadline = Date.now() + deadlineMs
  while (!net.status().every((row) => row.nodes >= want)) {
    if (Date.now() > deadline) throw new Error('testnet did not converge')
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

/** Start to "every routing table holds min(N − 1, k) contacts". */
async function convergence(nodes: number): Promise<{ ms: number; net: Testnet }> {
  const start = performance.now()
  const net = await startTestnet({ nodes })
  await converged(net, 60_000)
  return { ms: performance.now() - start, net }
}

/** Bytes in plus bytes out at each socket (KRPC and overlay, UDP payloads), averaged per node per second. */
async function idleBytesPerSecond(net: Testnet): Promise<number> {
  const total = () =>
    net.nodes.reduce((sum, node) => {
      const c = node.udp.counters()
      return sum + c.krpc.bytesIn + c.krpc.bytesOut + c.overlay.bytesIn + c.overlay.bytesOut
    }, 0)
  const before = total()
  await new Promise((resolve) => setTimeout(resolve, IDLE_WINDOW_MS))
  return (total() - before) / net.nodes.length / (IDLE_WINDOW_MS / 1000)
}

async function putGetLatency(net: Testnet): Promise<{ put: number[]; get: number[] }> {
  const put: number[] = []
  const get: number[] = []
  for (let i = 0; i < SAMPLES; i++) {
    const owner = generateIdentity()
    const signer = {
      publicKey: owner.publicKey,
      sign: (m: Uint8Array) => defaultBackend.ed25519Sign(owner.seed, m),
    }
    const writer = net.nodes[i % net.nodes.length]!.service.records
    const reader = net.nodes[(i * 7 + 3) % net.nodes.length]!.service.records
    let t = performance.now()
    await writer.publish({ signer, kind: RecordKind.signed, body: new Uint8Array(200) })
    put.push(performance.now() - t)
    t = performance.now()
    if (!(await reader.fetch(owner.publicKey))) throw new Error('record not found')
    get.push(performance.now() - t)
  }
  return { put, get }
}

const suite: BenchSuite = {
  name: 'dht',
  async run() {
    const rows: BenchRow[] = []
    const small = await convergence(30)
    rows.push({ metric: 'testnet30.convergence', value: small.ms, unit: 'ms' })
    try {
      const { put, get } = await putGetLatency(small.net)
      rows.push({ metric: 'testnet30.record_put.p50', value: percentile(put, 50), unit: 'ms' })
      rows.push({ metric: 'testnet30.record_put.p95', value: percentile(put, 95), unit: 'ms' })
      rows.push({ metric: 'testnet30.record_get.p50', value: percentile(get, 50), unit: 'ms' })
      rows.push({ metric: 'testnet30.record_get.p95', value: percentile(get, 95), unit: 'ms' })
      const discoveryStart = performance.now()
      await small.net.discoverRelays()
      rows.push({
        metric: 'testnet30.relay_discovery_all_nodes',
        value: performance.now() - discoveryStart,
        unit: 'ms',
      })
      rows.push({
        metric: 'testnet30.idle_in_out_per_node',
        value: await idleBytesPerSecond(small.net),
        unit: 'B/s',
      })
    } finally {
      await small.net.stop()
    }
    const large = await convergence(100)
    rows.push({ metric: 'testnet100.convergence', value: large.ms, unit: 'ms' })
    await large.net.stop()
    return rows
  },
}

export default suite

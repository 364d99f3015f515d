import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { defaultConfig } from '../../bridge/config/schema.js'
import { generateIdentity, type Identity } from '../../bridge/crypto/identity.js'
import { silentLogger } from '../../bridge/log.js'
import { EnvelopeSealer } from '../../bridge/messaging/envelope.js'
import { type InboundMessage, Messenger } from '../../bridge/messaging/messenger.js'
import { openStore, type Store } from '../../bridge/store/index.js'
import { type BenchRow, type BenchSuite, percentile } from '../harness.js'

/**
 * Two Messengers with the real EnvelopeSealer and LevelDB, joined by a lossless
 * in-process transport (each envelope handed over on the next turn of the event
 * loop): what the messaging layer costs without the network.
 */
interface Side {
  identity: Identity
  store: Store
  messenger: Messenger
}

async function side(
  dir: string,
  peers: Map<string, Messenger>,
  onDeliver: (m: InboundMessage) => void,
): Promise<Side> {
  const identity = generateIdentity()
  const store = await openStore({ dataDir: dir })
  const config = defaultConfig().messaging
  const messenger = new Messenger({
    store,
    config,
    log: silentLogger,
    sealer: new EnvelopeSealer({ store, config }),
    transport: {
      send: async (to, envelope) => {
        setImmediate(() => void peers.get(Buffer.from(to).toString('hex'))?.receive(to, envelope))
      },
      forget: () => {},
    },
    deliver: async (message) => onDeliver(message),
  })
  messenger.addIdentity(identity)
  peers.set(Buffer.from(identity.publicKey).toString('hex'), messenger)
  return { identity, store, messenger }
}

async function measure(size: number, burst: number, sequential: number): Promise<BenchRow[]> {
  const dir = await mkdtemp(join(tmpdir(), 'paranoim-bench-messenger-'))
  const peers = new Map<string, Messenger>()
  const sentAt = new Map<string, number>()
  const latencies: number[] = []
  let delivered = 0
  const onDeliver = (m: InboundMessage) => {
    delivered++
    const start = sentAt.get(Buffer.from(m.id).toString('hex'))
    if (start !== undefined) latencies.push(performance.now() - start)
  }
  const alice = await side(join(dir, 'a'), peers, () => {})
  const bob = await side(join(dir, 'b'), peers, onDeliver)
  const body = new Uint8Array(size).fill(7)
  const send = async () => {
    const start = performance.now()
    const { id } = await alice.messenger.send(alice.identity.publicKey, bob.identity.publicKey, body)
    sentAt.set(Buffer.from(id).toString('hex'), start)
  }
  const waitFor = async (n: number) => {
    while (delivered < n) await new Promise((resolve) => setTimeout(resolve, 1))
  }
  try {
    // Warm-up: prekeys exchanged, JIT.
    await send()
    await waitFor(1)
    const start = performance.now()
    await Promise.all(Array.from({ length: burst }, send))
    await waitFor(1 + burst)
    const perSecond = (burst * 1000) / (performance.now() - start)
    latencies.length = 0
    for (let i = 0; i < sequential; i++) {
      await send()
      await waitFor(2 + burst + i)
    }
    const label = size >= 1024 * 1024 ? `${size >> 20} MiB` : `${size >> 10} KiB`
    return [
      { metric: `${label} messages, pipelined`, value: perSecond, unit: 'msg/s' },
      { metric: `${label} latency p50 (one at a time)`, value: percentile(latencies, 50), unit: 'ms' },
      { metric: `${label} latency p99 (one at a time)`, value: percentile(latencies, 99), unit: 'ms' },
    ]
  } finally {
    await alice.messenger.stop()
    await bob.messenger.stop()
    await alice.store.close()
    await bob.store.close()
    await rm(dir, { recursive: true, force: true })
  }
}

const suite: BenchSuite = {
  name: 'messenger',
  async run(): Promise<BenchRow[]> {
    return [...(await measure(1024, 500, 200)), ...(await measure(64 * 1024, 40, 30))]
  },
}

export default suite

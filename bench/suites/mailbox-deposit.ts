import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { defaultConfig } from '../../bridge/config/schema.js'
import { generateIdentity } from '../../bridge/crypto/identity.js'
import { StampPool } from '../../bridge/crypto/stamp-pool.js'
import { startTestnet, type Testnet } from '../../bridge/dht/testnet.js'
import { silentLogger } from '../../bridge/log.js'
import { EnvelopeSealer } from '../../bridge/messaging/envelope.js'
import type { MailboxPort } from '../../bridge/messaging/mailbox-port.js'
import { Messenger } from '../../bridge/messaging/messenger.js'
import { OnionError } from '../../bridge/onion/errors.js'
import { MailboxClient } from '../../bridge/onion/mailbox-client.js'
import type { OnionRouter } from '../../bridge/onion/onion-router.js'
import { onionRelays } from '../../bridge/onion/testnet-relays.js'
import { openStore } from '../../bridge/store/index.js'
import type { BenchRow, BenchSuite } from '../harness.js'

/**
 * Offline delivery from the messenger's view: a Messenger whose contact has no
 * record deposits MESSAGES messages through the real MailboxClient on an
 * in-process testnet whose relays hold mailboxes, at the default stamp
 * difficulty. Figures: time from send() to the holders' answers, and how long
 * the event loop was blocked meanwhile, with stamps minted on the worker
 * pool (the bridge's way) against minting on the main thread.
 */
const NODES = 8
const MESSAGES = 20
const WORKERS = 2

async function depositAll(testnet: Testnet, router: OnionRouter, pool: StampPool | undefined) {
  const config = defaultConfig()
  const dir = await mkdtemp(join(tmpdir(), 'paranoim-bench-deposit-'))
  const store = await openStore({ dataDir: dir })
  const client = new MailboxClient({
    router,
    directory: testnet.nodes[1]!.service.directory,
    onion: config.onion,
    config: config.mailbox,
    log: silentLogger,
    ...(pool ? { mint: (subject, difficulty) => pool.mint(subject, difficulty) } : {}),
  })
  const answered: number[] = []
  const started = performance.now()
  const port: MailboxPort = {
    deposit: async (to, envelope) => {
      const outcomes = await client.deposit(to, envelope)
      answered.push(performance.now() - started)
      return outcomes
    },
    fetch: (identity) => client.fetch(identity),
    ack: (identity, ids) => client.ack(identity, ids),
  }
  const messenger = new Messenger({
    store,
    config: config.messaging,
    log: silentLogger,
    sealer: new EnvelopeSealer({ store, config: config.messaging }),
    transport: {
      send: async () => {
        throw new OnionError('NO_RECORD', 'no rendezvous record for this address')
      },
      forget: () => {},
    },
    deliver: async () => {},
    mailbox: { port, holders: config.mailbox.holders, concurrency: WORKERS, fetchIntervalMs: 3_600_000 },
  })
  const alice = generateIdentity()
  const bob = generateIdentity().publicKey
  messenger.addIdentity(alice)
  const delay = monitorEventLoopDelay({ resolution: 5 })
  delay.enable()
  for (let i = 0; i < MESSAGES; i++) await messenger.send(alice.publicKey, bob, new Uint8Array(200).fill(i))
  while (answered.length < MESSAGES) await new Promise((resolve) => setTimeout(resolve, 10))
  delay.disable()
  const total = performance.now() - started
  await messenger.stop()
  client.stop()
  await store.close()
  await rm(dir, { recursive: true, force: true })
  return { perMessage: total / MESSAGES, maxBlockMs: delay.max / 1e6, p99BlockMs: delay.percentile(99) / 1e6 }
}

const suite: BenchSuite = {
  name: 'mailbox-deposit',
  async run(): Promise<BenchRow[]> {
    const config = defaultConfig()
    const routers = new Map<unknown, OnionRouter>()
    const testnet = await startTestnet({
      nodes: NODES,
      config,
      attach: onionRelays(config.onion, silentLogger, {
        holdMailboxes: config.mailbox,
        started: (router, node) => routers.set(node.nodeKey, router),
      }),
    })
    // The depositor is node 1: its directory lists the other relays, the holders among them.
    const router = routers.get(testnet.nodes[1]!.nodeKey)
    try {
      await testnet.discoverRelays()
      const pool = new StampPool({ workers: WORKERS })
      const pooled = await depositAll(testnet, router!, pool)
      await pool.stop()
      const inline = await depositAll(testnet, router!, undefined)
      const label = 'main thread'
      const d = config.mailbox.stampDifficulty
      return [
        {
          metric: `${MESSAGES} deposits, difficulty ${d}: send → holders answered, per message`,
          value: pooled.perMessage,
          unit: 'ms',
          reference: { label, value: inline.perMessage },
        },
        {
          metric: 'event loop blocked meanwhile, longest',
          value: pooled.maxBlockMs,
          unit: 'ms',
          reference: { label, value: inline.maxBlockMs },
        },
        {
          metric: 'event loop delay meanwhile, p99',
          value: pooled.p99BlockMs,
          unit: 'ms',
          reference: { label, value: inline.p99BlockMs },
        },
      ]
    } finally {
      await testnet.stop()
    }
  },
}

export default suite

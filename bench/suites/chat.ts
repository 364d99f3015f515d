/**
 * Client-to-client figures over the network: two bridges, each in its own
 * child process (their CPU is their own), joined to a private 12-node testnet
 * whose onion relays run in this process, a RawClient logged in on each.
 * Latency is measured one message at a time (send → the other client has it),
 * throughput as a burst of 1 KiB messages with a window in flight. The same
 * figures between two accounts on one bridge are the reference: addressed as
 * nickname@domain (direct delivery by the XMPP core alone), and addressed by
 * address (the whole messenger path — outbox, sealing, acks — short-circuited
 * past the onion).
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Element } from 'ltx'
import type { Testnet } from '../../bridge/dht/testnet.js'
import { type BridgeProcess, createIdentity, startBridgeProcess } from '../../test/e2e/bridge-process.js'
import { startRelayTestnet } from '../../test/e2e/relay-testnet.js'
import { RawClient } from '../../test/xmpp/raw-client.js'
import { type BenchRow, type BenchSuite, percentile } from '../harness.js'

const DOMAIN = 'paranoim.localhost'
const PASSWORD = 'bench password'
const NODES = 12
const WARM_UP = 5
const SEQUENTIAL = 200
const BURST = 500
const WINDOW = 64
const BODY_BYTES = 1024
const SETUP_TIMEOUT_MS = 90_000
const PHASE_TIMEOUT_MS = 60_000
/**
 * The per-connection stanza limit (200/s, burst 1000) would otherwise cap the
 * local figures: the bench measures the paths, not the flood protection.
 */
const NO_STANZA_LIMIT = ['xmpp.limits.stanzasPerSecond=1000000', 'xmpp.limits.stanzaBurst=1000000']
const REACHABLE = 'identity reachable: tunnels built, record published'

/** A logged-in client that accepts every subscription request and reports chat bodies. */
class ChatClient {
  onBody: (body: string) => void = () => {}
  /** Bare JIDs that approved our subscription request. */
  private readonly approvals = new Set<string>()

  private constructor(
    readonly client: RawClient,
    readonly nickname: string,
    readonly address: string,
  ) {
    client.onElement = (el) => this.handle(el)
  }

  static async login(bridge: BridgeProcess, nickname: string, address: string): Promise<ChatClient> {
    const client = await RawClient.connect(bridge.port)
    await client.login(bridge.cert, nickname, 'bench', 'SCRAM-SHA-256', PASSWORD)
    const chat = new ChatClient(client, nickname, address)
    client.send('<presence/>')
    return chat
  }

  get addressJid(): string {
    return `${this.address}@${DOMAIN}`
  }

  send(to: string, body: string): void {
    this.client.send(`<message to='${to}' type='chat'><body>${body}</body></message>`)
  }

  approvedBy(jid: string): boolean {
    return this.approvals.has(jid)
  }

  private handle(el: Element): void {
    const from = (el.attrs.from ?? '').split('/')[0]!
    if (el.name === 'presence' && el.attrs.type === 'subscribe')
      this.client.send(`<presence to='${from}' type='subscribed'/>`)
    if (el.name === 'presence' && el.attrs.type === 'subscribed') this.approvals.add(from)
    const body = el.name === 'message' ? el.getChildText('body') : null
    if (body !== null) this.onBody(body)
  }
}

interface Figures {
  p50: number
  p99: number
  perSecond: number
}

async function until(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`chat bench: timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** Who writes to whom, under which JID. */
interface Path {
  label: string
  from: ChatClient
  to: ChatClient
  jid: string
}

/**
 * Sends `count` messages with bodies `<tag>:<i>:<padding>`, at most `window`
 * not yet received; resolves with each one's latency.
 */
function flow(path: Path, tag: string, count: number, window: number, padding = ''): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const sentAt = new Map<number, number>()
    const latencies: number[] = []
    let next = 0
    const timer = setTimeout(
      () => reject(new Error(`chat bench: ${tag} got ${latencies.length} of ${count} messages`)),
      PHASE_TIMEOUT_MS,
    )
    const pump = () => {
      while (next < count && sentAt.size < window) {
        sentAt.set(next, performance.now())
        path.from.send(path.jid, `${tag}:${next++}:${padding}`)
      }
    }
    path.to.onBody = (body) => {
      const [bodyTag, index] = body.split(':')
      const at = sentAt.get(Number(index))
      if (bodyTag !== tag || at === undefined) return
      latencies.push(performance.now() - at)
      sentAt.delete(Number(index))
      if (latencies.length < count) return pump()
      clearTimeout(timer)
      resolve(latencies)
    }
    pump()
  })
}

/** Latency one message at a time, then throughput of a windowed burst of 1 KiB bodies. */
async function measure(path: Path): Promise<Figures> {
  await flow(path, `${path.label}-warm`, WARM_UP, 1)
  const latencies = await flow(path, `${path.label}-one`, SEQUENTIAL, 1)
  const started = performance.now()
  await flow(path, `${path.label}-burst`, BURST, WINDOW, 'x'.repeat(BODY_BYTES))
  const perSecond = (BURST * 1000) / (performance.now() - started)
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), perSecond }
}

/** Mutual subscription, each side's client approving the other's request through the network. */
async function befriend(a: ChatClient, b: ChatClient): Promise<void> {
  a.client.send(`<presence to='${b.addressJid}' type='subscribe'/>`)
  b.client.send(`<presence to='${a.addressJid}' type='subscribe'/>`)
  await until(
    `${a.nickname} and ${b.nickname} to subscribe to each other`,
    () => a.approvedBy(b.addressJid) && b.approvedBy(a.addressJid),
    SETUP_TIMEOUT_MS,
  )
}

const reachableCount = (bridge: BridgeProcess) =>
  bridge.logs.filter((line) => line.includes(REACHABLE)).length

interface Network {
  alice: ChatClient
  bob: ChatClient
  /** A second identity on alice's bridge. */
  carol: ChatClient
  stop(): Promise<void>
}

/** Testnet, bridge A (alice, carol) and bridge B (bob), all logged in, reachable and befriended. */
async function startNetwork(): Promise<Network> {
  const root = await mkdtemp(join(tmpdir(), 'paranoim-bench-chat-'))
  const bridges: BridgeProcess[] = []
  const clients: ChatClient[] = []
  let testnet: Testnet | undefined
  const stop = async () => {
    for (const chat of clients) chat.client.close()
    await Promise.all(bridges.map((bridge) => bridge.stop()))
    await testnet?.stop()
    await rm(root, { recursive: true, force: true })
  }
  try {
    const aliceAddress = await createIdentity(join(root, 'a'), 'alice', PASSWORD)
    const carolAddress = await createIdentity(join(root, 'a'), 'carol', PASSWORD)
    const bobAddress = await createIdentity(join(root, 'b'), 'bob', PASSWORD)
    const started = await startRelayTestnet(NODES)
    testnet = started.testnet
    const { bootstrap } = started
    const start = async (dir: string) => {
      const bridge = await startBridgeProcess(join(root, dir), bootstrap, NO_STANZA_LIMIT)
      bridges.push(bridge)
      return bridge
    }
    const a = await start('a')
    const b = await start('b')
    const login = async (bridge: BridgeProcess, nickname: string, address: string) => {
      const chat = await ChatClient.login(bridge, nickname, address)
      clients.push(chat)
      return chat
    }
    const alice = await login(a, 'alice', aliceAddress)
    const carol = await login(a, 'carol', carolAddress)
    const bob = await login(b, 'bob', bobAddress)
    await until(
      'both bridges to publish their identities',
      () => reachableCount(a) >= 2 && reachableCount(b) >= 1,
      SETUP_TIMEOUT_MS,
    )
    await befriend(alice, bob)
    await befriend(alice, carol)
    return { alice, bob, carol, stop }
  } catch (error) {
    await stop()
    throw error
  }
}

function rows(prefix: string, ours: Figures, reference: Figures): BenchRow[] {
  const ref = (value: number) => ({ reference: { label: 'local direct', value } })
  return [
    { metric: `${prefix} latency p50 (one at a time)`, value: ours.p50, unit: 'ms', ...ref(reference.p50) },
    { metric: `${prefix} latency p99 (one at a time)`, value: ours.p99, unit: 'ms', ...ref(reference.p99) },
    {
      metric: `${prefix} 1 KiB messages, ${WINDOW} in flight`,
      value: ours.perSecond,
      unit: 'msg/s',
      ...ref(reference.perSecond),
    },
  ]
}

const suite: BenchSuite = {
  name: 'chat',
  async run(): Promise<BenchRow[]> {
    const net = await startNetwork()
    try {
      const { alice, bob, carol } = net
      const network = await measure({ label: 'net', from: alice, to: bob, jid: bob.addressJid })
      const sameBridge = await measure({ label: 'address', from: alice, to: carol, jid: carol.addressJid })
      const direct = await measure({ label: 'direct', from: alice, to: carol, jid: `carol@${DOMAIN}` })
      return [...rows('network', network, direct), ...rows('same bridge by address', sameBridge, direct)]
    } finally {
      await net.stop()
    }
  },
}

export default suite

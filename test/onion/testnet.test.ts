import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { generateIdentity } from '../../bridge/crypto/identity.js'
import { startTestnet, type Testnet, type TestnetNode } from '../../bridge/dht/testnet.js'
import { silentLogger } from '../../bridge/log.js'
import type { Endpoint } from '../../bridge/net/udp-node.js'
import { OnionRouter } from '../../bridge/onion/onion-router.js'
import { OnionService } from '../../bridge/onion/onion-service.js'
import { targetId } from '../../bridge/onion/path.js'
import { fetchRendezvous } from '../../bridge/onion/rendezvous.js'
import { allRelaysListed, FAST, waitUntil } from '../dht/helpers.js'
import { sleep, testOnionConfig } from './helpers.js'

const N = 30
// Short timers so a dead hop is found within a second or two; one failure takes a relay out.
const config = testOnionConfig({ replyTimeoutMs: 800, testIntervalMs: 400, failurePenalty: 10 })

interface OnionNode {
  net: TestnetNode
  router: OnionRouter
  service: OnionService
}

const key = (e: Endpoint) => `${e.host}:${e.port}`

describe(`onion tunnels on a ${N}-node testnet`, () => {
  let testnet: Testnet
  let nodes: OnionNode[]
  before(async () => {
    testnet = await startTestnet({ nodes: N, dht: FAST })
    await allRelaysListed(testnet)
    nodes = testnet.nodes.map((net) => {
      const router = new OnionRouter({
        links: net.links,
        nodeKey: net.nodeKey,
        config,
        clock: net.udp.clock,
        random: net.udp.random,
        log: silentLogger,
      })
      router.start()
      const service = new OnionService({
        router,
        directory: net.service.directory,
        blinded: net.service.blinded,
        config,
        log: silentLogger,
      })
      return { net, router, service }
    })
  })
  after(async () => {
    for (const node of nodes ?? []) {
      node.service.stop()
      node.router.stop()
    }
    await testnet?.stop()
  })

  it('A reaches B knowing only B’s address; every relay on the path crashes in turn and every message arrives', async () => {
    const [, b, a] = nodes as [OnionNode, OnionNode, OnionNode]
    // Every node is a relay: by chance A could route through B's node or B through A's, and
    // the hop between them would see both addresses (without knowing they are the two ends).
    // Take that coincidence out, as a large network makes it negligible.
    a.net.service.directory.report(targetId({ nodeKey: b.net.nodeKey.publicKey }), -1000)
    b.net.service.directory.report(targetId({ nodeKey: a.net.nodeKey.publicKey }), -1000)
    const identityB = generateIdentity()
    const tunnels = await b.service.host(identityB)
    assert.equal(tunnels.introPoints().length, config.inboundTunnels)
    assert.equal(
      new Set(tunnels.introPoints().map(targetId)).size,
      config.inboundTunnels,
      'distinct intro points',
    )

    const received = new Set<string>()
    b.service.on('message', (address, payload) => {
      assert.deepEqual(address, identityB.publicKey)
      received.add(Buffer.from(payload).toString())
    })
    // Raw retry (the messaging layer adds end-to-end acknowledgements later): send until it arrived.
    let lastPath: string[] = []
    async function deliver(text: string): Promise<void> {
      for (let attempt = 1; ; attempt++) {
        try {
          const intro = await a.service.send(identityB.publicKey, new TextEncoder().encode(text))
          lastPath = [
            ...(a.service.outboundPath(intro) ?? []).slice(0, -1),
            ...(tunnels.pathOf(intro.authKey) ?? []).reverse(),
          ]
        } catch {}
        const deadline = Date.now() + 1500
        while (Date.now() < deadline && !received.has(text)) await sleep(20)
        if (received.has(text)) return
        a.service.forget(identityB.publicKey)
        assert.ok(attempt < 30, `${text} never arrived`)
      }
    }

    await deliver('hello B')
    const onPath = nodes.filter((n) => n !== a && n !== b && n.router.relay.circuitCount > 0)
    // B's 3 tunnels of 2 hops and A's path of 2 hops + intro: at least 5 distinct relays.
    assert.ok(onPath.length >= 5, `relays carry the circuits (${onPath.length})`)

    // On no circuit does a relay have both endpoints as neighbours; the intro relay sees neither.
    const aEnd = key(a.net.endpoint)
    const bEnd = key(b.net.endpoint)
    for (const node of nodes) {
      for (const n of node.router.relay.neighbours()) {
        const seen = [n.prev, n.next].filter((e) => e !== undefined).map(key)
        assert.ok(!(seen.includes(aEnd) && seen.includes(bEnd)), 'a relay saw both ends')
        if (n.intro) assert.ok(!seen.includes(bEnd), 'the intro relay saw the receiver')
      }
    }
    const introNodes = nodes.filter((n) => n.router.counters.introductions > 0)
    assert.ok(introNodes.length > 0)
    for (const n of introNodes.flatMap((node) => node.router.relay.neighbours())) {
      for (const end of [n.prev, n.next].filter((e) => e !== undefined).map(key)) {
        assert.notEqual(end, aEnd, 'the intro relay saw the sender')
        assert.notEqual(end, bEnd, 'the intro relay saw the receiver')
      }
    }

    // The path is [A's hop 1, A's hop 2, intro, B's hop next to the intro]: kill position 0, 1, 2, 3 in turn.
    const byId = new Map(nodes.map((n) => [targetId({ nodeKey: n.net.nodeKey.publicKey }), n]))
    let sent = 1
    const victims: OnionNode[] = []
    for (let position = 0; position < 4; position++) {
      assert.equal(lastPath.length, 4, 'a 2-hop outbound path to the intro point of a 2-hop tunnel')
      const victim = byId.get(lastPath[position]!)!
      victims.push(victim)
      // A crash: the socket goes, nobody is told (a clean stop would DESTROY its circuits and close its links).
      await victim.net.udp.stop()
      for (let i = 0; i < 3; i++) await deliver(`message ${sent++}`)
    }
    assert.equal(received.size, sent)
    // B republished its record when its intro points changed: a third node reads the current ones.
    const reader = nodes.find((n) => n !== a && n !== b && !victims.includes(n))!
    const current = () => tunnels.introPoints().map((i) => Buffer.from(i.authKey).toString('hex'))
    await waitUntil('the record lists B’s current intro points', async () => {
      const record = await fetchRendezvous(reader.net.service.blinded, identityB.publicKey)
      const listed = record?.introPoints.map((i) => Buffer.from(i.authKey).toString('hex')) ?? []
      return listed.length > 0 && current().every((id) => listed.includes(id))
    })
    // The dead relays were found and scored down by whoever used them (tests, timeouts, failed builds).
    const score = (node: OnionNode, victim: OnionNode) =>
      node.net.service.directory.get(targetId({ nodeKey: victim.net.nodeKey.publicKey }))?.score ?? 0
    await waitUntil(
      'every killed relay is scored down by A or B within seconds',
      () => victims.every((v) => score(a, v) < 0 || score(b, v) < 0),
      5000,
    )
  })
})

import assert from 'node:assert/strict'
import { once } from 'node:events'
import { after, before, describe, it } from 'node:test'
import { silentLogger } from '../../bridge/log.js'
import { InboundTunnels } from '../../bridge/onion/inbound-tunnels.js'
import { Introducer } from '../../bridge/onion/introducer.js'
import { targetId } from '../../bridge/onion/path.js'
import type { IntroPointInfo } from '../../bridge/wire/rendezvous.js'
import { waitFor } from '../net/helpers.js'
import {
  directoryOf,
  type OnionTestNode,
  sleep,
  startOnionNodes,
  stopAll,
  testOnionConfig,
} from './helpers.js'

const ids = (intros: IntroPointInfo[]) => intros.map((i) => Buffer.from(i.authKey).toString('hex')).sort()

describe('inbound tunnels: build, test, repair, expiry; introducer', () => {
  // 0 = receiver, 1 = sender, 2.. relays.
  let nodes: OnionTestNode[]
  before(async () => {
    nodes = await startOnionNodes(12)
  })
  after(() => stopAll(nodes))

  it('builds 3 tunnels of 2 hops at distinct intro points, and a sender reaches it with TX and RX apart', async () => {
    const [receiver, sender, ...relays] = nodes as [OnionTestNode, OnionTestNode, ...OnionTestNode[]]
    const config = testOnionConfig({ testIntervalMs: 60_000 })
    const tunnels = new InboundTunnels({
      router: receiver.router,
      directory: directoryOf(relays),
      config,
      log: silentLogger,
    })
    await tunnels.start()
    try {
      const intros = tunnels.introPoints()
      assert.equal(intros.length, 3)
      assert.equal(new Set(intros.map(targetId)).size, 3, 'distinct intro points')
      assert.equal(tunnels.relayIds().size, 6, 'no relay in two tunnels (the directory has enough)')
      for (const intro of intros) assert.equal(tunnels.pathOf(intro.authKey)?.length, 2)

      const introducer = new Introducer({
        router: sender.router,
        directory: directoryOf(relays),
        config,
        log: silentLogger,
        avoid: () => tunnels.relayIds(),
      })
      const got: Uint8Array[] = []
      tunnels.on('message', (payload) => got.push(payload))
      const used = await introducer.send(
        { validUntil: tunnels.validUntil(), introPoints: intros },
        Uint8Array.of(42),
      )
      await waitFor(() => got.length === 1)
      const tx = introducer.pathTo(used)!
      assert.equal(tx.length, 3, '2 hops + the intro point')
      const rx = new Set(tunnels.relayIds())
      for (const relay of tx.slice(0, -1)) assert.ok(!rx.has(relay), 'TX and RX share a relay')
      introducer.stop()
      tunnels.stop()
      // Stopping destroys the tunnels and builds no replacements.
      await waitFor(() => relays.every((r) => r.router.relay.circuitCount === 0))
      await sleep(500)
      assert.ok(
        relays.every((r) => r.router.relay.circuitCount === 0),
        'a tunnel was rebuilt after stop()',
      )
    } finally {
      tunnels.stop()
    }
  })

  it('a hop that stops forwarding is found by a tunnel test, scored down and replaced within seconds', async () => {
    const [receiver, , ...relays] = nodes as [OnionTestNode, OnionTestNode, ...OnionTestNode[]]
    const directory = directoryOf(relays)
    const config = testOnionConfig({ testIntervalMs: 300, replyTimeoutMs: 700, failurePenalty: 10 })
    const tunnels = new InboundTunnels({ router: receiver.router, directory, config, log: silentLogger })
    await tunnels.start()
    try {
      const before = tunnels.introPoints()
      const victimId = tunnels.pathOf(before[0]!.authKey)![0]!
      const victim = relays.find((r) => targetId(r.target) === victimId)!
      const changed = once(tunnels, 'changed')
      victim.network.cut = true // it silently drops everything it would send
      const started = Date.now()
      const [replaced] = (await changed) as [IntroPointInfo[]]
      assert.ok(Date.now() - started < 5000, 'replaced within seconds')
      assert.ok(!ids(replaced).includes(ids([before[0]!])[0]!), 'the broken tunnel is no longer listed')
      assert.ok(directory.get(victimId)!.score < 0, 'the silent relay lost reputation')
      await waitFor(() => tunnels.introPoints().length === 3, 5000)
      assert.ok(!tunnels.relayIds().has(victimId), 'the silent relay is avoided')
    } finally {
      tunnels.stop()
      for (const relay of relays) relay.network.cut = false
    }
  })

  it('tunnels are replaced ahead of expiry, announced, and the old ones go at their lifetime', async () => {
    const [receiver, , ...relays] = nodes as [OnionTestNode, OnionTestNode, ...OnionTestNode[]]
    const config = testOnionConfig({ circuitLifetimeMs: 2500, rebuildAheadMs: 1000, testIntervalMs: 300 })
    const tunnels = new InboundTunnels({
      router: receiver.router,
      directory: directoryOf(relays.filter((r) => !r.network.cut)),
      config,
      log: silentLogger,
    })
    await tunnels.start()
    try {
      const first = ids(tunnels.introPoints())
      const [next] = (await once(tunnels, 'changed')) as [IntroPointInfo[]]
      assert.ok(next.length > 3, 'the replacements are listed next to the old ones while both live')
      await waitFor(() => ids(tunnels.introPoints()).every((id) => !first.includes(id)), 5000)
      assert.equal(tunnels.introPoints().length, 3)
    } finally {
      tunnels.stop()
    }
  })
})

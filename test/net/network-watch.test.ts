import assert from 'node:assert/strict'
import { once } from 'node:events'
import type { NetworkInterfaceInfo } from 'node:os'
import { after, describe, it } from 'node:test'
import { silentLogger } from '../../bridge/log.js'
import { addressFingerprint, NetworkWatch, type RejoinReason } from '../../bridge/net/network-watch.js'
import { endpointOf, ManualClock, startTestNode, type TestNode, waitFor } from './helpers.js'

const iface = (address: string, internal = false): NetworkInterfaceInfo => ({
  address,
  netmask: '255.255.255.0',
  family: 'IPv4',
  mac: '00:00:00:00:00:00',
  internal,
  cidr: `${address}/24`,
})

describe('network changes', () => {
  const nodes: TestNode[] = []
  after(async () => {
    for (const n of nodes) await n.stop()
  })

  it('fingerprints external IPv4 addresses only, in a stable order', () => {
    const a = addressFingerprint({
      lo: [iface('127.0.0.1', true)],
      eth0: [iface('10.0.0.2')],
      wlan0: [iface('10.1.0.2')],
    })
    const b = addressFingerprint({ wlan0: [iface('10.1.0.2')], eth0: [iface('10.0.0.2')] })
    assert.equal(a, b)
    assert.equal(a, 'eth0=10.0.0.2,wlan0=10.1.0.2')
    assert.notEqual(addressFingerprint({ eth0: [iface('10.0.0.3')] }), a)
  })

  it('re-handshakes links and asks for a rejoin when the addresses change', async () => {
    const a = await startTestNode()
    const b = await startTestNode()
    nodes.push(a, b)
    const link = await a.links.connect(b.identity.publicKey, endpointOf(b))
    let current = { eth0: [iface('192.168.1.20')] }
    const watch = new NetworkWatch({
      links: a.links,
      intervalMs: 60_000,
      interfaces: () => current,
      log: silentLogger,
    })
    watch.start()
    const reasons: RejoinReason[] = []
    watch.on('rejoin', (r) => reasons.push(r))
    assert.equal(watch.check(), false, 'nothing moved yet')
    current = { eth0: [iface('192.168.7.33')] }
    assert.equal(watch.check(), true)
    assert.deepEqual(reasons, ['addresses-changed'])
    await waitFor(() => link.stats.handshakes === 2)
    assert.equal(link.state, 'up')
    assert.equal(b.links.list().length, 1, 'the responder rekeyed the same link')
    watch.stop()
  })

  it('asks for a rejoin when every link has dropped', async () => {
    const clock = new ManualClock()
    const config = { keepaliveIntervalMs: 1000, linkIdleTimeoutMs: 3000 }
    const a = await startTestNode(config, clock)
    const b = await startTestNode(config, clock)
    nodes.push(a, b)
    await a.links.connect(b.identity.publicKey, endpointOf(b))
    const watch = new NetworkWatch({
      links: a.links,
      intervalMs: 60_000,
      interfaces: () => ({}),
      log: silentLogger,
    })
    watch.start()
    const rejoin = once(watch, 'rejoin')
    b.network.cut = true
    for (let i = 0; i < 4; i++) {
      clock.advance(1000)
      a.links.maintain()
      await new Promise((r) => setTimeout(r, 20))
    }
    assert.deepEqual(await rejoin, ['all-links-down'])
    watch.stop()
  })
})

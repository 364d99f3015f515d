import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createNetnsLab, JsonLines, NetnsUnavailableError, probeNetns } from './netns.js'

interface HostEvent {
  ready?: { port: number; key: string }
  event?: string
  peer?: string
  reason?: string
  role?: string
  text?: string
}

const CONFIG = {
  keepaliveIntervalMs: 200,
  linkIdleTimeoutMs: 1000,
  handshakeRetryMs: 100,
  handshakeTimeoutMs: 3000,
  reconnectMaxBackoffMs: 400,
}

describe('links between 5 hosts in network namespaces', () => {
  it('survive one host being cut off and restored', async () => {
    const capability = await probeNetns()
    if (!capability.available) {
      const banner = '!'.repeat(78)
      console.log(
        `${banner}\n!! NETNS TEST NOT RUN: ${capability.reason}\n!! Run as root on Linux with iproute2 (see README).\n${banner}`,
      )
      assert.ok(capability.reason.length > 0, 'the probe says why')
      await assert.rejects(createNetnsLab({ hosts: 5 }), NetnsUnavailableError)
      return
    }
    const lab = await createNetnsLab({ hosts: 5 })
    const hosts: JsonLines<HostEvent>[] = []
    try {
      for (const host of lab.hosts)
        hosts.push(new JsonLines(host.spawnNode('test/net/netns-node.ts', [JSON.stringify(CONFIG)])))
      const ready = await Promise.all(hosts.map((h) => h.next((e) => e.ready !== undefined, 20_000)))
      const keys = ready.map((e) => e.ready!.key)
      const connect = (from: number, to: number) =>
        hosts[from]!.send({
          connect: { key: keys[to], host: lab.hosts[to]!.address, port: ready[to]!.ready!.port },
        })
      const connected = (from: number, to: number, after = 0) =>
        hosts[from]!.next(
          (e) => (e.event === 'connected' || e.event === 'up') && e.peer === keys[to],
          10_000,
          after,
        )
      const pong = async (from: number, to: number) => {
        const mark = hosts[from]!.events.length
        hosts[from]!.send({ ping: { key: keys[to] } })
        await hosts[from]!.next(
          (e) => e.event === 'message' && e.text === 'pong' && e.peer === keys[to],
          5000,
          mark,
        )
      }

      // Host 0 links to every other host; host 3 also links to host 4.
      for (let i = 1; i < 5; i++) connect(0, i)
      connect(3, 4)
      for (let i = 1; i < 5; i++) await connected(0, i)
      await connected(3, 4)
      for (let i = 1; i < 5; i++) await pong(0, i)
      await pong(3, 4)

      const marks = hosts.map((h) => h.events.length)
      await lab.hosts[3]!.cut()
      const down = await hosts[0]!.next((e) => e.event === 'down' && e.peer === keys[3], 5000, marks[0])
      assert.equal(down.reason, 'idle')
      await hosts[3]!.next((e) => e.event === 'allDown', 5000, marks[3])
      await pong(0, 1) // the rest of the network is untouched

      const afterCut = hosts.map((h) => h.events.length)
      await lab.hosts[3]!.restore()
      await hosts[0]!.next((e) => e.event === 'up' && e.peer === keys[3], 10_000, afterCut[0])
      await hosts[3]!.next((e) => e.event === 'up' && e.peer === keys[4], 10_000, afterCut[3])
      await pong(0, 3)
      await pong(3, 4)
    } finally {
      for (const h of hosts) h.child.stdin?.end()
      await lab.destroy()
    }
  })
})

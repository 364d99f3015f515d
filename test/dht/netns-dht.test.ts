import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createNetnsLab, JsonLines, NetnsUnavailableError, probeNetns } from '../net/netns.js'
import { waitUntil } from './helpers.js'

interface HostEvent {
  ready?: { port: number; key: string }
  event?: string
  key?: string
  body?: string | null
  ids?: string[]
  nodes?: number
  joins?: number
  reason?: string
}

const HOSTS = 5
const NET = {
  keepaliveIntervalMs: 200,
  linkIdleTimeoutMs: 1000,
  handshakeRetryMs: 100,
  reconnectMaxBackoffMs: 400,
}
const DHT = { queryTimeoutMs: 400, announceRetryMs: 500, rejoinRetryMs: 500 }

describe(`the DHT across ${HOSTS} hosts in network namespaces`, () => {
  it('a host cut off and restored rejoins: it reads what was published meanwhile and is found again', async () => {
    const capability = await probeNetns()
    if (!capability.available) {
      const banner = '!'.repeat(78)
      console.log(
        `${banner}\n!! NETNS DHT TEST NOT RUN: ${capability.reason}\n!! Run as root on Linux (see README).\n${banner}`,
      )
      await assert.rejects(createNetnsLab({ hosts: HOSTS }), NetnsUnavailableError)
      return
    }
    const lab = await createNetnsLab({ hosts: HOSTS })
    const hosts: JsonLines<HostEvent>[] = []
    const spawn = (i: number, bootstrap: string[]) => {
      const args = { address: lab.hosts[i]!.address, bootstrap, net: NET, dht: DHT }
      hosts[i] = new JsonLines(lab.hosts[i]!.spawnNode('test/dht/netns-dht-node.ts', [JSON.stringify(args)]))
      return hosts[i]!.next((e) => e.ready !== undefined, 30_000)
    }
    /** Sends a command and resolves with its answer (the first matching event after it). */
    const ask = async (i: number, command: object, event: string, ms = 20_000) => {
      const mark = hosts[i]!.events.length
      hosts[i]!.send(command)
      return hosts[i]!.next((e) => e.event === event || e.event === 'error', ms, mark)
    }
    const fetch = async (i: number, key: string) => (await ask(i, { fetch: key }, 'fetched')).body
    try {
      const first = await spawn(0, [])
      const bootstrap = [`${lab.hosts[0]!.address}:${first.ready!.port}`]
      const ready = [first, ...(await Promise.all([1, 2, 3, 4].map((i) => spawn(i, bootstrap))))]
      const keys = ready.map((e) => e.ready!.key)

      for (let i = 0; i < HOSTS; i++) {
        await waitUntil(
          `host ${i} finds the other relays`,
          async () => {
            const { ids } = await ask(i, { discover: true }, 'relays')
            return keys.every((key, j) => j === i || ids?.includes(key))
          },
          30_000,
        )
      }
      const before = (await ask(2, { publish: 'before the cut' }, 'published')).key!
      for (let i = 0; i < HOSTS; i++) assert.equal(await fetch(i, before), 'before the cut', `host ${i}`)

      const cut = 3
      const mark = hosts[cut]!.events.length
      await lab.hosts[cut]!.cut()
      await hosts[cut]!.next((e) => e.event === 'rejoin' && e.reason === 'all-links-down', 10_000, mark)
      const during = (await ask(1, { publish: 'during the cut' }, 'published')).key!
      assert.equal(await fetch(4, during), 'during the cut', 'the rest of the network works')
      assert.equal(await fetch(cut, during), null, 'the cut-off host cannot reach anyone')

      const { joins } = await ask(cut, { status: true }, 'status')
      await lab.hosts[cut]!.restore()
      await waitUntil(
        'the restored host rejoined',
        async () => {
          const status = await ask(cut, { status: true }, 'status')
          return status.joins! > joins! && status.nodes! > 0
        },
        30_000,
      )
      assert.equal(await fetch(cut, during), 'during the cut')
      const after = (await ask(cut, { publish: 'after the cut' }, 'published')).key!
      for (let i = 0; i < HOSTS; i++) assert.equal(await fetch(i, after), 'after the cut', `host ${i}`)
      await waitUntil(
        'host 0 finds the restored relay again',
        async () => {
          const { ids } = await ask(0, { discover: true }, 'relays')
          return ids?.includes(keys[cut]!) === true
        },
        30_000,
      )
    } finally {
      for (const h of hosts) h?.child.stdin?.end()
      await lab.destroy()
    }
  })
})

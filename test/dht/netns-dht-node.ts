/**
 * One DHT relay node of a netns lab (test/net/netns.ts), driven by JSON lines.
 * Argument: {"address": own IPv4, "bootstrap": ["host:port"…], "net": {…}, "dht": {…}}.
 * It starts a node on 0.0.0.0 through startNetworkNode (as the testnet does):
 * socket, links, network watch, DHT; prints {"ready":{port,key}},
 * then obeys one command per stdin line and answers with one JSON line:
 *   {"publish":"text"}  → {"event":"published","key":hex}      (a signed record under a fresh key)
 *   {"fetch":hex}       → {"event":"fetched","key":hex,"body":text|null}
 *   {"discover":true}   → {"event":"relays","ids":[hex…]}      (each relay listed has a link up)
 *   {"status":true}     → {"event":"status","nodes":n,"joins":n}
 */
import { createInterface } from 'node:readline'
import { defaultConfig } from '../../bridge/config/schema.js'
import { defaultBackend } from '../../bridge/crypto/default-backend.js'
import { generateIdentity } from '../../bridge/crypto/identity.js'
import { startNetworkNode } from '../../bridge/dht/network-node.js'
import { silentLogger } from '../../bridge/log.js'
import { RecordKind } from '../../bridge/wire/record.js'

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const print = (event: object) => process.stdout.write(`${JSON.stringify(event)}\n`)

const args = JSON.parse(process.argv[2] ?? '{}') as {
  address: string
  bootstrap: string[]
  net?: object
  dht?: object
}
const defaults = defaultConfig()
const node = await startNetworkNode({
  config: {
    net: { ...defaults.net, ...args.net },
    dht: { ...defaults.dht, distinctSubnets: false, ...args.dht, bootstrap: args.bootstrap },
  },
  nodeKey: generateIdentity(),
  bind: { host: '0.0.0.0', port: 0 },
  publicHost: args.address,
  confirmRelaysOverLinks: true,
  log: silentLogger,
})
const { service } = node
node.watch.on('rejoin', (reason) => print({ event: 'rejoin', reason }))

async function obey(command: { publish?: string; fetch?: string; discover?: boolean; status?: boolean }) {
  if (command.publish !== undefined) {
    const owner = generateIdentity()
    const signer = {
      publicKey: owner.publicKey,
      sign: (m: Uint8Array) => defaultBackend.ed25519Sign(owner.seed, m),
    }
    const body = new TextEncoder().encode(command.publish)
    await service.records.publish({ signer, kind: RecordKind.signed, body })
    print({ event: 'published', key: hex(owner.publicKey) })
  }
  if (command.fetch !== undefined) {
    const record = await service.records.fetch(new Uint8Array(Buffer.from(command.fetch, 'hex')))
    print({ event: 'fetched', key: command.fetch, body: record ? Buffer.from(record.body).toString() : null })
  }
  if (command.discover) {
    await service.discovery.refresh()
    const relays = service.directory.list()
    print({ event: 'relays', ids: relays.map((r) => r.id) })
  }
  if (command.status) {
    const status = service.status()
    print({ event: 'status', nodes: status.nodes, joins: status.joins })
  }
}

createInterface({ input: process.stdin }).on('line', (line) => {
  obey(JSON.parse(line)).catch((error) => print({ event: 'error', error: String(error) }))
})
process.stdin.on('end', async () => {
  await node.stop()
  process.exit(0)
})
print({ ready: { port: node.udp.address().port, key: hex(node.nodeKey.publicKey) } })

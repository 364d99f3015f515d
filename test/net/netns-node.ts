/**
 * One node of a netns lab (test/net/netns.ts), driven by JSON lines: it starts
 * a UdpNode on 0.0.0.0 with encrypted links, prints `{"ready":{…}}`, then obeys
 * `{"connect":{key,host,port}}` and `{"ping":{key}}` from stdin and prints every
 * link event and message as one JSON line on stdout. Net config overrides come
 * as one JSON argument.
 */
import { createInterface } from 'node:readline'
import { defaultConfig } from '../../bridge/config/schema.js'
import { generateIdentity } from '../../bridge/crypto/identity.js'
import { silentLogger } from '../../bridge/log.js'
import type { Link } from '../../bridge/net/link.js'
import { createLinks } from '../../bridge/net/links.js'
import { createUdpNode } from '../../bridge/net/udp-node.js'

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const print = (event: object) => process.stdout.write(`${JSON.stringify(event)}\n`)
const peerOf = (link: Link) =>
  link.peerKey ? hex(link.peerKey) : `${link.endpoint.host}:${link.endpoint.port}`

const config = { ...defaultConfig().net, host: '0.0.0.0', ...JSON.parse(process.argv[2] ?? '{}') }
const node = createUdpNode({ bind: { host: config.host, port: 0 }, log: silentLogger })
await node.start()
const identity = generateIdentity()
const links = createLinks({ node, nodeKey: identity, config })
links.start()
const byKey = new Map<string, Link>()

links.on('up', (link) => print({ event: 'up', role: link.role, peer: peerOf(link) }))
links.on('down', (link, reason) => print({ event: 'down', role: link.role, peer: peerOf(link), reason }))
links.on('allDown', () => print({ event: 'allDown' }))
links.onMessage((payload, link) => {
  const text = Buffer.from(payload).toString()
  print({ event: 'message', text, peer: peerOf(link) })
  if (text === 'ping') link.send(new TextEncoder().encode('pong'))
})

createInterface({ input: process.stdin }).on('line', async (line) => {
  const command = JSON.parse(line) as {
    connect?: { key: string; host: string; port: number }
    ping?: { key: string }
  }
  if (command.connect) {
    const { key, host, port } = command.connect
    try {
      byKey.set(key, await links.connect(new Uint8Array(Buffer.from(key, 'hex')), { host, port }))
      print({ event: 'connected', peer: key })
    } catch (error) {
      print({ event: 'connectFailed', peer: key, error: String(error) })
    }
  }
  if (command.ping) {
    const link = byKey.get(command.ping.key)
    try {
      link?.send(new TextEncoder().encode('ping'))
    } catch (error) {
      print({ event: 'pingFailed', peer: command.ping.key, error: String(error) })
    }
  }
})
process.stdin.on('end', async () => {
  links.stop()
  await node.stop()
  process.exit(0)
})
print({ ready: { port: node.address().port, key: hex(identity.publicKey) } })

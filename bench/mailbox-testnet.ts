import { type MailboxConfig, mailboxSection } from '../bridge/config/sections/mailbox.js'
import { type OnionConfig, onionSection } from '../bridge/config/sections/onion.js'
import { startTestnet, type Testnet, type TestnetNode } from '../bridge/dht/testnet.js'
import { silentLogger } from '../bridge/log.js'
import { MailboxClient } from '../bridge/onion/mailbox-client.js'
import { MailboxHolder } from '../bridge/onion/mailbox-holder.js'
import type { OnionRouter } from '../bridge/onion/onion-router.js'
import { onionRelays } from '../bridge/onion/testnet-relays.js'
import { openMemoryStore, type Store } from '../bridge/store/index.js'

const hex = (key: Uint8Array) => Buffer.from(key).toString('hex')

/** A private testnet whose every node is an onion relay and a mailbox holder (default configs), directories full. */
export interface MailboxTestnet {
  testnet: Testnet
  onion: OnionConfig
  mailbox: MailboxConfig
  holders: MailboxHolder[]
  nodeOf(id: string): TestnetNode
  /** A mailbox client using `node`'s onion router (circuits built on first use). */
  clientOn(node: TestnetNode): MailboxClient
  /** UDP payload bytes sent on every node's overlay socket so far (every hop of every circuit counts). */
  overlayBytes(): number
  stop(): Promise<void>
}

export async function startMailboxTestnet(nodes: number): Promise<MailboxTestnet> {
  const onion = onionSection.parse({})
  const mailbox: MailboxConfig = mailboxSection.parse({})
  const stores: Store[] = []
  for (let i = 0; i < nodes; i++) stores.push(await openMemoryStore())
  const routers = new Map<string, OnionRouter>()
  const holders: MailboxHolder[] = []
  const testnet = await startTestnet({
    nodes,
    dht: { queryTimeoutMs: 500, announceRetryMs: 300 },
    attach: onionRelays(onion, silentLogger, {
      mailbox: () => {
        const holder = new MailboxHolder({
          store: stores[holders.length]!,
          config: mailbox,
          log: silentLogger,
        })
        holders.push(holder)
        return holder
      },
      started: (router, node) => routers.set(hex(node.nodeKey.publicKey), router),
    }),
  })
  const stop = async () => {
    await testnet.stop()
    for (const store of stores) await store.close()
  }
  try {
    for (let round = 0; testnet.nodes.some((n) => n.service.directory.size < nodes - 1); round++) {
      if (round === 300) throw new Error('the testnet’s directories did not fill')
      await testnet.discoverRelays()
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  } catch (err) {
    await stop()
    throw err
  }
  return {
    testnet,
    onion,
    mailbox,
    holders,
    nodeOf: (id) => testnet.nodes.find((n) => hex(n.nodeKey.publicKey) === id)!,
    clientOn: (node) =>
      new MailboxClient({
        router: routers.get(hex(node.nodeKey.publicKey))!,
        directory: node.service.directory,
        onion,
        config: mailbox,
        log: silentLogger,
      }),
    overlayBytes: () => testnet.nodes.reduce((sum, node) => sum + node.udp.counters().overlay.bytesOut, 0),
    stop,
  }
}

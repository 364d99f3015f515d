import type { MailboxConfig } from '../config/sections/mailbox.js'
import type { OnionConfig } from '../config/sections/onion.js'
import type { NetworkNode } from '../dht/network-node.js'
import type { Logger } from '../log.js'
import { openMemoryStore } from '../store/index.js'
import { networkHandoff } from './mailbox-handoff.js'
import { type MailboxHandler, MailboxHolder } from './mailbox-holder.js'
import { OnionRouter } from './onion-router.js'

export interface OnionRelaysOptions {
  /** The mailbox holder of a node, if it holds mailboxes (docs/protocol.md "Mailboxes"). */
  mailbox?: (node: NetworkNode) => MailboxHandler | undefined
  /** Every node holds mailboxes with this config, each in its own in-memory store (unless `mailbox` is given). */
  holdMailboxes?: MailboxConfig
  /** Sees each router as it starts (tests use a testnet node's router as a client too). */
  started?: (router: OnionRouter, node: NetworkNode) => void
}

/**
 * For `startTestnet({ attach })`: an onion router on every testnet node, so
 * the nodes do what they announce — forward cells, serve as intro points for
 * the bridges that join the testnet and, given holders, keep mailboxes.
 */
export function onionRelays(
  config: OnionConfig,
  log: Logger,
  options: OnionRelaysOptions = {},
): (node: NetworkNode) => () => void {
  return (node) => {
    const hold = options.mailbox ? undefined : options.holdMailboxes
    const memory = hold && memoryHolder(hold, log, node)
    const mailbox = options.mailbox?.(node) ?? memory?.handler
    const router = new OnionRouter({
      links: node.links,
      nodeKey: node.nodeKey,
      config,
      clock: node.udp.clock,
      random: node.udp.random,
      log,
      ...(mailbox ? { mailbox } : {}),
    })
    router.start()
    // The relays hand items on as the testnet changes, as a relaying bridge does.
    const handoff = memory?.ready.then(({ holder }) => {
      const directory = node.service.directory
      const h = networkHandoff({ holder, router, directory, onion: config, config: hold!, log })
      h.start()
      return h
    })
    options.started?.(router, node)
    return () => {
      void handoff?.then((h) => h.stop())
      router.stop()
      memory?.stop()
    }
  }
}

/** The relays hold mailboxes when the config says so (`mailbox.hold`), as a bridge that relays would. */
export function relayMailboxes(config: { mailbox: MailboxConfig }): OnionRelaysOptions {
  return config.mailbox.hold ? { holdMailboxes: config.mailbox } : {}
}

/** A holder on an in-memory store; the store opens asynchronously, so requests wait for it. */
function memoryHolder(
  config: MailboxConfig,
  log: Logger,
  node: NetworkNode,
): { handler: MailboxHandler; ready: Promise<{ holder: MailboxHolder }>; stop(): void } {
  const ready = openMemoryStore().then((store) => {
    const holder = new MailboxHolder({ store, config, log, now: () => node.udp.clock.now() })
    holder.start()
    return { store, holder }
  })
  return {
    ready,
    handler: {
      deposit: async (deposit) => (await ready).holder.deposit(deposit),
      fetch: async (fetch, binding) => (await ready).holder.fetch(fetch, binding),
      ack: async (ack, binding) => (await ready).holder.ack(ack, binding),
    },
    stop: () =>
      void ready.then(async ({ store, holder }) => {
        holder.stop()
        await store.close()
      }),
  }
}

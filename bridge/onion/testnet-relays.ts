import type { OnionConfig } from '../config/sections/onion.js'
import type { NetworkNode } from '../dht/network-node.js'
import type { Logger } from '../log.js'
import type { MailboxHandler } from './mailbox-holder.js'
import { OnionRouter } from './onion-router.js'

export interface OnionRelaysOptions {
  /** The mailbox holder of a node, if it holds mailboxes (docs/protocol.md "Mailboxes"). */
  mailbox?: (node: NetworkNode) => MailboxHandler | undefined
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
    const mailbox = options.mailbox?.(node)
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
    options.started?.(router, node)
    return () => router.stop()
  }
}

import { createSocket, type Socket } from 'node:dgram'
import { defaultConfig } from '../../bridge/config/schema.js'
import { generateIdentity, type Identity } from '../../bridge/crypto/identity.js'
import { silentLogger } from '../../bridge/log.js'
import { createLinks, type Links, type NetConfig } from '../../bridge/net/links.js'
import { type Clock, createUdpNode, type UdpNode } from '../../bridge/net/udp-node.js'

/** A clock that moves only when the test says so. */
export class ManualClock implements Clock {
  constructor(public time = 1_700_000_000_000) {}
  now(): number {
    return this.time
  }
  advance(ms: number): void {
    this.time += ms
  }
}

export interface NetworkState {
  /** Drop every outgoing datagram (the node is cut off). */
  cut: boolean
  /** Drop the outgoing datagrams this returns true for. */
  drop?: (datagram: Uint8Array) => boolean
}

/** A real UDP socket whose outgoing datagrams can be dropped, to cut a node off. */
export function cuttableSocket(state: NetworkState): () => Socket {
  return () => {
    const socket = createSocket({ type: 'udp4' })
    const send = socket.send.bind(socket) as (...args: unknown[]) => void
    socket.send = ((...args: unknown[]) => {
      if (!state.cut && !state.drop?.(args[0] as Uint8Array)) return send(...args)
      const callback = args.find((a) => typeof a === 'function') as ((e: Error | null) => void) | undefined
      callback?.(null)
    }) as Socket['send']
    return socket
  }
}

export interface TestNode {
  node: UdpNode
  links: Links
  identity: Identity
  config: NetConfig
  network: NetworkState
  stop(): Promise<void>
}

export async function startTestNode(overrides: Partial<NetConfig> = {}, clock?: Clock): Promise<TestNode> {
  const config: NetConfig = { ...defaultConfig().net, host: '127.0.0.1', ...overrides }
  const network: NetworkState = { cut: false }
  const node = createUdpNode({
    bind: { host: config.host, port: 0 },
    socketFactory: cuttableSocket(network),
    log: silentLogger,
    ...(clock ? { clock } : {}),
  })
  await node.start()
  const identity = generateIdentity()
  const links = createLinks({ node, nodeKey: identity, config })
  links.start()
  return {
    node,
    links,
    identity,
    config,
    network,
    async stop() {
      links.stop()
      await node.stop()
    },
  }
}

export async function waitFor(check: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time')
    await new Promise((r) => setTimeout(r, 5))
  }
}

export const endpointOf = (t: TestNode) => t.node.address()

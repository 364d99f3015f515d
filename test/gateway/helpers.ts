import { EventEmitter } from 'node:events'
import type { Element } from 'ltx'
import { type Config, defaultConfig } from '../../bridge/config/schema.js'
import { encodeAddress } from '../../bridge/crypto/address.js'
import type { Clock } from '../../bridge/gateway/clock.js'
import { Gateway, type GatewayXmpp } from '../../bridge/gateway/gateway.js'
import { silentLogger } from '../../bridge/log.js'
import type { InboundMessage } from '../../bridge/messaging/inbox.js'
import { type BatchOp, openMemoryStore, type Store } from '../../bridge/store/index.js'

export const DOMAIN = 'paranoim.localhost'

/** A fake clock: timers run when the test advances time. */
export class FakeClock implements Clock {
  private time = 1_700_000_000_000
  private timers: Array<{ at: number; fn: () => void; handle: number }> = []
  private nextHandle = 1

  now(): number {
    return this.time
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const handle = this.nextHandle++
    this.timers.push({ at: this.time + ms, fn, handle })
    return handle
  }

  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((t) => t.handle !== handle)
  }

  /** Moves time forward, running due timers in order (letting promises settle between them). */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms
    for (;;) {
      await settle()
      const due = this.timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at)[0]
      if (!due) break
      this.timers = this.timers.filter((t) => t !== due)
      this.time = due.at
      due.fn()
    }
    this.time = end
    await settle()
  }
}

export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve))
}

type Item = { subscription: 'none' | 'to' | 'from' | 'both'; askOut: boolean; pendingIn?: string }

/** The XMPP server as the gateway sees it: a roster and a list of injected stanzas. */
export class FakeXmpp implements GatewayXmpp {
  readonly injected: Element[] = []
  readonly roster = new Map<string, Item>()
  refusal: { condition: string; type: string } | undefined

  async routeInbound(stanza: Element): Promise<void> {
    if (this.refusal) throw Object.assign(new Error(this.refusal.condition), this.refusal)
    this.injected.push(stanza)
  }

  async rosterItem(account: string, jid: string) {
    return this.roster.get(`${account}/${jid}`)
  }

  async rosterItems(account: string) {
    return [...this.roster]
      .filter(([key]) => key.startsWith(`${account}/`))
      .map(([key, item]) => ({ jid: key.slice(account.length + 1), ...item }))
  }

  set(account: string, contact: Uint8Array, subscription: Item['subscription'], askOut = false): void {
    this.roster.set(`${account}/${jidOf(contact)}`, { subscription, askOut })
  }
}

export interface Sent {
  from: Uint8Array
  to: Uint8Array
  body: Uint8Array
  reliable: boolean
}

/** Records what the gateway sends; tests hand it to the other side's gateway. */
export class FakeMessenger extends EventEmitter<{
  unreachable: [{ from: Uint8Array; to: Uint8Array }]
  heard: [{ from: Uint8Array; to: Uint8Array }]
}> {
  readonly sent: Sent[] = []
  failure: Error | undefined

  /** The store the real messenger would commit `alsoWrite` to, with the outbox entry. */
  constructor(private readonly store: Store) {
    super()
  }

  async send(
    from: Uint8Array,
    to: Uint8Array,
    body: Uint8Array,
    options: { reliable?: boolean; alsoWrite?: BatchOp[] } = {},
  ) {
    if (this.failure) throw this.failure
    await this.store.batch(options.alsoWrite ?? [])
    this.sent.push({ from, to, body, reliable: options.reliable ?? true })
    return { id: new Uint8Array(16), timestamp: 0 }
  }

  take(): Sent[] {
    return this.sent.splice(0)
  }
}

export const key = (n: number) => new Uint8Array(32).fill(n)
export const jidOf = (address: Uint8Array) => `${encodeAddress(address)}@${DOMAIN}`

export interface Side {
  gateway: Gateway
  xmpp: FakeXmpp
  messenger: FakeMessenger
  clock: FakeClock
  store: Store
  account: string
  address: Uint8Array
  jid: string
}

/** One bridge with one unlocked account. */
export async function side(
  account: string,
  address: Uint8Array,
  gateway: Partial<Config['gateway']> = {},
  clock = new FakeClock(),
): Promise<Side> {
  const store = await openMemoryStore()
  const xmpp = new FakeXmpp()
  const messenger = new FakeMessenger(store)
  const config = defaultConfig()
  const g = new Gateway({
    config: { ...config.gateway, ...gateway },
    domain: DOMAIN,
    maxMessageBytes: config.messaging.maxMessageBytes,
    messenger,
    xmpp,
    identities: {
      addressOf: (a) => (a === account ? address : undefined),
      accountOf: (k) => (Buffer.from(k).equals(Buffer.from(address)) ? account : undefined),
    },
    store,
    log: silentLogger,
    clock,
  })
  return { gateway: g, xmpp, messenger, clock, store, account, address, jid: `${account}@${DOMAIN}` }
}

/** Hands everything `from` sent to `to`'s gateway, as the messenger would. */
export async function carry(from: Side, to: Side, timestamp = to.clock.now()): Promise<Sent[]> {
  const sent = from.messenger.take()
  for (const s of sent) await to.gateway.deliver(inbound(s, timestamp))
  return sent
}

export function inbound(
  s: Omit<Sent, 'reliable'> & { reliable?: boolean },
  timestamp: number,
): InboundMessage {
  return {
    from: s.from,
    to: s.to,
    body: s.body,
    id: new Uint8Array(16),
    timestamp,
    reliable: s.reliable ?? true,
  }
}

/** The JID parts route() gets from the XMPP core. */
export function to(address: Uint8Array): { local: string; domain: string; resource: string } {
  return { local: encodeAddress(address), domain: DOMAIN, resource: '' }
}

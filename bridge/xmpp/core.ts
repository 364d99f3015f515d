import { EventEmitter } from 'node:events'
import type { Element } from 'ltx'
import type { XmppConfig } from '../config/sections/xmpp.js'
import type { Logger } from '../log.js'
import type { Store } from '../store/index.js'
import type { Accounts } from './accounts.js'
import { StreamError, XMPPError } from './errors.js'
import { Hooks } from './hooks.js'
import { IqHandlers } from './iq-handlers.js'
import { JID } from './jid.js'
import type {
  Advertised,
  ComponentHandler,
  DiscoIdentity,
  DiscoItem,
  IqTarget,
  Session,
  XmppEvents,
  XmppModule,
} from './module.js'
import { NS } from './namespaces.js'
import { OfflineStore } from './offline-store.js'
import type { RemoteRouter } from './remote.js'
import { RosterStore } from './roster-store.js'
import type { ClientSession } from './session.js'
import { SessionRegistry } from './sessions.js'
import { errorReply, iqReply, mayBounce, type StanzaKind, stanzaKind } from './stanza.js'

export type NonzaHandler = (session: Session, element: Element) => void | Promise<void>

/** How long an "account exists" answer is trusted; identities are rarely created or deleted. */
const ACCOUNT_CACHE_MS = 5_000

/**
 * The server's shared state and the stanza pipeline (RFC 6120 §8, §10):
 * checks and stamps what clients send, runs the module hooks, and routes to
 * the server, local accounts (full/bare JIDs, offline storage) or the remote router.
 * Presence and the roster plug in through `presence` (see presence.ts).
 */
export class XmppCore {
  readonly hooks = new Hooks()
  readonly iqHandlers: IqHandlers
  readonly sessions = new SessionRegistry()
  readonly events = new EventEmitter()
  readonly roster: RosterStore
  readonly offline: OfflineStore
  readonly modules: XmppModule[] = []
  /** What modules advertise from setup() (`ctx.advertise`), beside their static declarations. */
  readonly advertised: Advertised[] = []
  readonly nonzas = new Map<string, NonzaHandler>()
  /** Local services by domain (ctx.component): their stanzas never reach the remote router. */
  readonly components = new Map<string, ComponentHandler>()
  /** Set by the presence layer: handles every presence stanza. */
  presence!: {
    outbound(session: ClientSession, stanza: Element, to: JID | undefined): Promise<void>
    inbound(stanza: Element, from: JID, to: JID, origin: ClientSession | undefined): Promise<void>
  }
  private readonly accountCache = new Map<string, number>()

  constructor(
    readonly config: XmppConfig,
    readonly store: Store,
    readonly accounts: Accounts,
    readonly remote: RemoteRouter,
    readonly log: Logger,
    readonly now: () => number,
  ) {
    this.events.setMaxListeners(100)
    this.iqHandlers = new IqHandlers(log)
    this.roster = new RosterStore(store)
    this.offline = new OfflineStore(store)
  }

  get domain(): string {
    return this.config.domain
  }

  emit<K extends keyof XmppEvents>(name: K, event: XmppEvents[K]): void {
    try {
      this.events.emit(name, event)
    } catch (err) {
      this.log.error({ err, event: name }, 'event listener failed')
    }
  }

  async accountExists(account: string): Promise<boolean> {
    if (this.sessions.ofAccount(account).length > 0) return true
    const until = this.accountCache.get(account)
    if (until !== undefined && until > this.now()) return true
    const exists = await this.accounts.exists(account)
    if (exists) this.accountCache.set(account, this.now() + ACCOUNT_CACHE_MS)
    return exists
  }

  disco(target: IqTarget): { identities: DiscoIdentity[]; features: string[] } {
    const all = [...this.modules, ...this.advertised]
    const identities = all.flatMap((m) => (target === 'server' ? m.identities : m.accountIdentities) ?? [])
    const features = all.flatMap((m) => (target === 'server' ? m.features : m.accountFeatures) ?? [])
    return { identities, features: [...new Set(features)].sort() }
  }

  /** The server's disco#items: the local services the modules run. */
  discoItems(): DiscoItem[] {
    return [...this.modules, ...this.advertised].flatMap((m) => m.items ?? [])
  }

  /** The stream features offered after authentication, from every module. */
  streamFeatures(): Element[] {
    return [...this.modules, ...this.advertised].flatMap((m) => m.streamFeatures?.() ?? [])
  }

  /** A stanza from a bound client (RFC 6120 §8.1.2.1: `from` is checked and stamped). */
  async fromClient(session: ClientSession, stanza: Element): Promise<void> {
    const kind = stanzaKind(stanza)
    if (!kind) throw new StreamError('unsupported-stanza-type', `<${stanza.name}> is not a stanza`)
    const xmlns = stanza.attrs.xmlns
    if (xmlns !== undefined && xmlns !== NS.client)
      throw new StreamError('invalid-namespace', 'stanzas are jabber:client')
    this.stampFrom(session, stanza)
    try {
      await this.processFromClient(session, stanza, kind)
    } catch (err) {
      if (!(err instanceof XMPPError)) throw err
      this.bounce(stanza, err, session)
    }
  }

  private stampFrom(session: ClientSession, stanza: Element): void {
    const claimed = stanza.attrs.from
    if (claimed !== undefined) {
      let from: JID
      try {
        from = JID.parse(claimed)
      } catch {
        throw new StreamError('invalid-from', 'malformed from')
      }
      if (!from.equals(session.jid) && !from.equals(session.jid.bare)) {
        throw new StreamError('invalid-from', `you are ${session.jid}`)
      }
    }
    stanza.attrs.from = session.jid.toString()
  }

  private async processFromClient(session: ClientSession, stanza: Element, kind: StanzaKind): Promise<void> {
    const to = JID.parseOptional(stanza.attrs.to)
    if (kind === 'iq') {
      const type = stanza.attrs.type
      if (type !== 'get' && type !== 'set' && type !== 'result' && type !== 'error') {
        throw new XMPPError('bad-request', 'IQ type must be get, set, result or error')
      }
      if (!stanza.attrs.id) throw new XMPPError('bad-request', 'IQ without id')
      if (
        (type === 'result' || type === 'error') &&
        (!to || to.equals(session.jid.bare) || (to.local === '' && to.domain === this.domain))
      ) {
        session.answer(stanza)
        return
      }
    }
    // A stanza without 'to' is for the sender's own account (RFC 6120 §10.3); presence without it is a broadcast.
    const event = { stanza, kind, session, from: session.jid, to: to ?? session.jid.bare }
    if ((await this.hooks.run('outbound', event)) === 'handled') return
    if (kind === 'presence') return this.presence.outbound(session, event.stanza, to)
    if (!to && kind === 'iq') return this.answerIq(event.stanza, session.jid, event.to, session)
    await this.route(event.stanza, session)
  }

  /** Routes a stanza whose `from` and `to` are set (RFC 6120 §10). */
  async route(stanza: Element, origin: ClientSession | undefined): Promise<void> {
    const from = JID.parse(stanza.attrs.from ?? this.domain)
    const to = JID.parse(stanza.attrs.to ?? from.bareString)
    const kind = stanzaKind(stanza)
    if (!kind) throw new XMPPError('bad-request', `<${stanza.name}> is not a stanza`)
    if (to.domain !== this.domain) {
      const component = this.components.get(to.domain)
      if (component) return component({ stanza, kind, from, to })
      return this.remote.route(stanza, to)
    }
    if (to.local === '') return this.toServer(stanza, kind, from, to, origin)
    if (!(await this.accountExists(to.local))) return this.remote.route(stanza, to)
    if (kind === 'presence') return this.presence.inbound(stanza, from, to, origin)
    if (kind === 'iq') return this.iqToAccount(stanza, from, to, origin)
    return this.messageToAccount(stanza, from, to, origin)
  }

  private async toServer(stanza: Element, kind: StanzaKind, from: JID, to: JID, origin?: ClientSession) {
    if (kind === 'iq') return this.answerIq(stanza, from, to, origin)
    // Presence to the server itself has no meaning here (RFC 6121 §4.6 leaves it to the server): ignored.
    if (kind === 'message' && mayBounce(stanza))
      throw new XMPPError('service-unavailable', 'this server takes no messages')
  }

  /** IQ get/set addressed to the server or on an account's behalf (bare JID): a module answers. */
  private async answerIq(
    stanza: Element,
    from: JID,
    to: JID,
    origin: ClientSession | undefined,
  ): Promise<void> {
    const type = stanza.attrs.type
    if (type === 'result' || type === 'error') return
    const target: IqTarget = to.local === '' ? 'server' : 'account'
    const reply = await iqReply(stanza, from.toString(), to.toString(), () =>
      this.iqHandlers.answer({
        stanza,
        from,
        to,
        target,
        account: target === 'account' ? to.local : undefined,
        session: origin,
      }),
    )
    await this.deliverReply(reply, from, origin)
  }

  private async deliverReply(reply: Element, to: JID, origin: ClientSession | undefined): Promise<void> {
    if (origin && to.equals(origin.jid)) origin.send(reply)
    else await this.route(reply, undefined)
  }

  private async iqToAccount(stanza: Element, from: JID, to: JID, origin: ClientSession | undefined) {
    if (to.isBare) return this.answerIq(stanza, from, to, origin)
    const session = this.sessions.byJid(to)
    if (!session) {
      if (mayBounce(stanza)) throw new XMPPError('service-unavailable', `${to} is not online`)
      return
    }
    await this.deliver(stanza, 'iq', from, to, [session], origin)
  }

  private async messageToAccount(stanza: Element, from: JID, to: JID, origin: ClientSession | undefined) {
    const type = stanza.attrs.type ?? 'normal'
    const full = to.isBare ? undefined : this.sessions.byJid(to)
    // RFC 6121 §8.5.3.2.1: a chat/normal message to an absent resource is treated as sent to the bare JID.
    let targets: ClientSession[]
    if (full) targets = [full]
    else if (type === 'groupchat') {
      if (mayBounce(stanza)) throw new XMPPError('service-unavailable', 'not a chat room')
      return
    } else if (type === 'headline')
      targets = this.sessions.ofAccount(to.local).filter((s) => s.available && s.priority >= 0)
    else targets = this.sessions.messageTargets(to.local)
    const delivered = await this.deliver(stanza, 'message', from, to, targets, origin)
    if (delivered === 0 && (type === 'normal' || type === 'chat')) await this.storeOffline(to.local, stanza)
  }

  /** Runs the inbound hooks and hands the stanza to the chosen sessions; returns how many got it. */
  async deliver(
    stanza: Element,
    kind: StanzaKind,
    from: JID,
    to: JID,
    targets: ClientSession[],
    origin: ClientSession | undefined,
  ): Promise<number | undefined> {
    const event = { stanza, kind, from, to, account: to.local, targets, origin }
    if ((await this.hooks.run('inbound', event)) === 'handled') return undefined
    for (const session of event.targets as ClientSession[]) session.send(event.stanza)
    return event.targets.length
  }

  /** Keeps a message for an account with no available resource (RFC 6121 §8.5.2.2.1), with a cap. */
  async storeOffline(account: string, stanza: Element): Promise<void> {
    if ((await this.offline.count(account)) >= this.config.limits.offlineQueue) {
      throw new XMPPError('resource-constraint', `${account}'s offline storage is full`)
    }
    await this.offline.add(account, { stanza: stanza.toString(), stamp: this.now() })
  }

  /**
   * A message a dead session never acknowledged: to the account's other
   * resources or offline storage, without the hooks (they saw it already) and
   * past the offline cap (it was accepted once; it must not be lost).
   */
  async redeliver(stanza: Element, account: string): Promise<void> {
    const targets = this.sessions.messageTargets(account)
    if (targets.length > 0) for (const session of targets) session.send(stanza)
    else await this.offline.add(account, { stanza: stanza.toString(), stamp: this.now() })
  }

  bounce(stanza: Element, err: XMPPError, session: ClientSession | undefined): void {
    if (!mayBounce(stanza)) return
    const reply = errorReply(stanza, err)
    if (session && reply.attrs.to === session.jid.toString()) {
      session.send(reply)
      return
    }
    this.route(reply, undefined).catch((e) => this.log.debug({ err: e }, 'error reply undeliverable'))
  }

  nonzaKey(name: string, xmlns: string): string {
    return `{${xmlns}}${name}`
  }

  async fromClientNonza(session: ClientSession, element: Element): Promise<void> {
    const handler = this.nonzas.get(this.nonzaKey(element.getName(), element.getNS() ?? ''))
    if (!handler) throw new StreamError('unsupported-stanza-type', `<${element.name}> is not understood here`)
    await handler(session, element)
  }
}

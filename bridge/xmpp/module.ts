/**
 * The module API: every XMPP feature beyond the stream core is a module that
 * declares its disco features and hooks the stanzas of its namespace, as in
 * Prosody (mod_ping is the model; see modules/ping.ts and docs/xmpp.md).
 *
 * Rules the core enforces for every module:
 * - An IQ handler returns the result payload (or nothing for an empty result) or
 *   throws `XMPPError(condition, text)`; any other exception becomes
 *   `internal-server-error` (and is logged); an IQ nobody handles gets
 *   `service-unavailable`. Stanzas are never dropped silently by the core.
 * - Hooks run in priority order (higher first, default 0); a hook returning
 *   `'handled'` stops the chain and the core's default processing.
 * - disco#info of the server and of accounts lists exactly the loaded modules' features.
 */
import type { Element } from 'ltx'
import type { z } from 'zod'
import type { XmppConfig } from '../config/sections/xmpp.js'
import type { Logger } from '../log.js'
import type { Table } from '../store/table.js'
import type { StreamErrorCondition } from './errors.js'
import type { JID } from './jid.js'
import type { RosterItem } from './roster-store.js'
import type { StanzaKind } from './stanza.js'

export interface DiscoIdentity {
  category: string
  type: string
  name?: string
}

/** An entry of the server's disco#items (XEP-0030 §4), e.g. a local service such as `conference.<domain>`. */
export interface DiscoItem {
  jid: string
  name?: string
}

/**
 * What a module adds to disco#info and the stream features: declared on the
 * module when fixed, or with `ctx.advertise()` in setup() when it depends on
 * the server's configuration (so module objects hold no per-server state).
 */
export interface Advertised {
  /** disco#info features of the server's JID (XEP-0030). */
  readonly features?: readonly string[]
  /** disco#info features of each local account's bare JID (PEP, MAM…). */
  readonly accountFeatures?: readonly string[]
  /** disco#info identities of the server's JID. */
  readonly identities?: readonly DiscoIdentity[]
  /** disco#info identities of each local account's bare JID (e.g. pubsub/pep). */
  readonly accountIdentities?: readonly DiscoIdentity[]
  /** disco#items of the server's JID: the local services (components) a module runs. */
  readonly items?: readonly DiscoItem[]
  /** Stream features offered after authentication (e.g. `<csi xmlns='urn:xmpp:csi:0'/>`). */
  streamFeatures?(): Element[]
}

export interface XmppModule extends Advertised {
  readonly name: string
  setup(ctx: ModuleContext): void | Promise<void>
}

/** A typed per-session slot for module state: `const CARBONS = new SessionKey<boolean>('carbons')`. */
export class SessionKey<T> {
  declare private readonly type: T
  constructor(readonly name: string) {}
}

/**
 * A bound client session (RFC 6120 §7). It outlives its TCP connection while
 * XEP-0198 resumption is possible, so modules keep state here, not on sockets.
 */
export interface Session {
  readonly id: string
  /** The full JID. */
  readonly jid: JID
  /** Account = identity nickname = localpart. */
  readonly account: string
  readonly resource: string
  readonly remoteAddress: string
  /** Sent initial presence and not yet unavailable (RFC 6121 §4.2). */
  readonly available: boolean
  /** Priority of the last available presence (0 before one). */
  readonly priority: number
  /** The last presence broadcast by this session, if any. */
  readonly presence: Element | undefined
  /** Requested the roster, so receives roster pushes (RFC 6121 §2.1.6). */
  readonly interested: boolean
  /** XEP-0352 client state; the core only stores it (mod_csi sets it). */
  csi: 'active' | 'inactive'
  get<T>(key: SessionKey<T>): T | undefined
  set<T>(key: SessionKey<T>, value: T | undefined): void
  /** Sends a stanza to this client, through the 'outgoing' hooks and the SM queue. */
  send(stanza: Element): void
  /** Sends past the 'outgoing' hooks: for a module that held stanzas back (CSI) and now flushes them. */
  write(stanza: Element): void
  /** Sends an IQ get/set to this client and resolves with its result (rejects with XMPPError on error/timeout). */
  request(iq: Element, timeoutMs?: number): Promise<Element>
  /** Ends the session with a stream error (or a plain close). */
  close(condition?: StreamErrorCondition, text?: string): void
}

export type IqTarget = 'server' | 'account'

export interface IqRequest {
  readonly stanza: Element
  /** The single child element the handler was registered for. */
  readonly payload: Element
  readonly from: JID
  /** The server's JID, or the account's bare JID (also for an IQ without `to`, RFC 6120 §10.3.3). */
  readonly to: JID
  readonly target: IqTarget
  /** The local account addressed, when target is 'account'. */
  readonly account: string | undefined
  /** The sender's session, when a local client sent it. */
  readonly session: Session | undefined
}

export type IqHandler = (request: IqRequest) => Element | undefined | Promise<Element | undefined>

export interface IqRoute {
  type: 'get' | 'set'
  /** Local name of the payload element, e.g. 'ping'. */
  name: string
  xmlns: string
  /** Which addressees this handler answers for; default ['server']. */
  on?: readonly IqTarget[]
}

export type HookResult = undefined | 'handled'

/** A stanza addressed to a local service's domain (`to.domain` is the component's), from anyone. */
export interface ComponentStanzaEvent {
  readonly stanza: Element
  readonly kind: StanzaKind
  readonly from: JID
  readonly to: JID
}

/** Handles a component's stanzas; throw XMPPError to bounce one to its sender. */
export type ComponentHandler = (event: ComponentStanzaEvent) => Promise<void>

/** A stanza a local client sent: `from` is stamped, before routing. Throw XMPPError to bounce it. */
export interface OutboundStanzaEvent {
  stanza: Element
  readonly kind: StanzaKind
  readonly session: Session
  readonly from: JID
  /** The addressee; the sender's bare JID when the stanza had no `to`. */
  readonly to: JID
}

/** A stanza about to be delivered to a local account. Throw XMPPError to bounce it to the sender. */
export interface InboundStanzaEvent {
  stanza: Element
  readonly kind: StanzaKind
  readonly from: JID
  readonly to: JID
  readonly account: string
  /** The sessions the core chose (RFC 6121 §8.5); hooks may change it. Empty → offline storage or an error. */
  targets: Session[]
  /** The sender's session when it is a local client, undefined for the server or the network. */
  readonly origin: Session | undefined
}

/** A stanza about to be written to one session (after routing). */
export interface OutgoingStanzaEvent {
  readonly stanza: Element
  readonly session: Session
}

export interface HookMap {
  outbound: OutboundStanzaEvent
  inbound: InboundStanzaEvent
  outgoing: OutgoingStanzaEvent
}

export type Hook<E> = (event: E) => HookResult | Promise<HookResult>

export interface XmppEvents {
  /** A resource was bound. */
  'session-started': Session
  /** A session sent its initial presence. */
  'session-available': Session
  /** A session ended for good (closed, or its resumption window expired). */
  'session-ended': Session
  /** An account's roster changed; item is undefined when the contact was removed. */
  'roster-changed': { account: string; jid: JID; item: RosterItem | undefined }
  /**
   * A client authenticated. With SCRAM (and PLAIN) the server learns ClientKey,
   * which is never stored; a later feature may unwrap the identity's key with it.
   */
  authenticated: { account: string; mechanism: string; clientKey: Uint8Array; remoteAddress: string }
}

export interface ModuleContext {
  /** The server's domain (the `xmpp.domain` config key). */
  readonly domain: string
  readonly config: XmppConfig
  /** This module's logger (child of the server's, tagged with the module name). */
  readonly log: Logger
  now(): number

  iq(route: IqRoute, handler: IqHandler): void
  /** Top-level elements other than stanzas after binding (e.g. XEP-0352 `<active/>`). */
  nonza(
    name: string,
    xmlns: string,
    handler: (session: Session, element: Element) => void | Promise<void>,
  ): void
  hook<K extends keyof HookMap>(name: K, handler: Hook<HookMap[K]>, options?: { priority?: number }): void
  on<K extends keyof XmppEvents>(name: K, listener: (event: XmppEvents[K]) => void): void

  /** Routes a stanza from the server or on an account's behalf: `from` and `to` must be set; inbound hooks apply. */
  route(stanza: Element): Promise<void>
  /** Broadcasts an available session's last presence again, as if its client re-sent it (outbound hooks apply). */
  rebroadcastPresence(session: Session): Promise<void>
  readonly sessions: {
    ofAccount(account: string): Session[]
    byJid(fullJid: JID): Session | undefined
  }
  accountExists(account: string): Promise<boolean>
  readonly roster: {
    items(account: string): Promise<RosterItem[]>
    item(account: string, contact: JID): Promise<RosterItem | undefined>
  }
  /**
   * Serves a local service at `domain` (a subdomain such as `conference.<domain>`, XEP-0114-like but in
   * process): every stanza routed to that domain goes to `handler` instead of the remote router.
   */
  component(domain: string, handler: ComponentHandler): void
  /** Adds to what this server advertises (disco#info, stream features), e.g. only when a config switch is on. */
  advertise(what: Advertised): void
  /** What disco#info answers for the server or for an account: everything the loaded modules declare. */
  disco(target: IqTarget): { identities: DiscoIdentity[]; features: string[] }
  /** The server's disco#items: every `items` the loaded modules declare. */
  discoItems(): DiscoItem[]
  /** A table of this module's own, stored as `xmpp-<module>-<name>` in the bridge's store (lowercase, digits, "-"). */
  table<S extends z.ZodType>(name: string, schema: S): Table<z.output<S>>
}

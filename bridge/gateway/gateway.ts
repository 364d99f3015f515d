import { randomBytes } from 'node:crypto'
import type { Element } from 'ltx'
import type { GatewayConfig } from '../config/sections/gateway.js'
import { encodeAddress, parseAddress } from '../crypto/address.js'
import { ParanoimError } from '../errors.js'
import type { Logger } from '../log.js'
import type { InboundMessage } from '../messaging/inbox.js'
import type { BatchOp, Store } from '../store/index.js'
import {
  decodeStanzaPayload,
  encodeStanzaPayload,
  type MessagePayload,
  NETWORK_ID_LENGTH,
  PayloadError,
  type PresencePayload,
  type StanzaPayload,
} from '../wire/stanza-payload.js'
import { AccountPresence } from './account-presence.js'
import {
  buildMessage,
  buildPresence,
  delayElement,
  hasContent,
  isChatStateOnly,
  type MessageContent,
  type PresenceContent,
  readMessage,
  readPresence,
  truncateChars,
} from './allow-list.js'
import { type Clock, realClock } from './clock.js'
import { ContactLiveness } from './contact-liveness.js'
import { GatewayError } from './errors.js'
import { HeldRequests } from './held-requests.js'
import { IdMap, parseRenderedId, renderNetworkId } from './id-map.js'
import { Throttle } from './presence-throttle.js'

/** A received message older than this is shown with its original time (XEP-0203). */
const DELAY_AFTER_MS = 5_000
/** Longest presence status (characters) carried; a request text has its own limit in the config. */
const STATUS_CHARS = 500

type Subscription = 'none' | 'to' | 'from' | 'both'

/** What the gateway needs from the XMPP server (the service passes its XmppServer). */
export interface GatewayXmpp {
  /** A stanza from `<address>@domain` to a local account; throws an XMPPError-like `{condition, type}` when refused. */
  routeInbound(stanza: Element): Promise<void>
  rosterItem(
    account: string,
    bareJid: string,
  ): Promise<{ subscription: Subscription; pendingIn?: string; askOut: boolean } | undefined>
  rosterItems(account: string): Promise<Array<{ jid: string; subscription: Subscription }>>
}

export interface GatewayIdentities {
  /** Only identities unlocked on this bridge. */
  addressOf(account: string): Uint8Array | undefined
  accountOf(address: Uint8Array): string | undefined
}

type PeerEvent = { from: Uint8Array; to: Uint8Array }

/** The part of the Messenger the gateway uses. */
export interface GatewayMessenger {
  send(
    from: Uint8Array,
    to: Uint8Array,
    body: Uint8Array,
    options?: { reliable?: boolean; alsoWrite?: BatchOp[] },
  ): Promise<unknown>
  on(event: 'unreachable' | 'heard', listener: (event: PeerEvent) => void): unknown
  off(event: 'unreachable' | 'heard', listener: (event: PeerEvent) => void): unknown
}

export interface GatewayOptions {
  config: GatewayConfig
  /** The XMPP domain: accounts are `nick@domain`, network contacts `<address>@domain`. */
  domain: string
  /** Largest payload sent or accepted (config.messaging.maxMessageBytes). */
  maxMessageBytes: number
  messenger: GatewayMessenger
  xmpp: GatewayXmpp
  identities: GatewayIdentities
  store: Store
  log: Logger
  clock?: Clock
  random?: (length: number) => Uint8Array
}

/** A held message from a stranger, for the web UI. */
export interface HeldRequestView {
  /** The sender's address. */
  from: string
  timestamp: number
  body: string
}

/** Where a routed stanza goes: a network contact. */
interface Route {
  account: string
  resource: string
  self: Uint8Array
  contact: string
  contactKey: Uint8Array
}

/**
 * The XMPP ↔ network gateway (docs/gateway.md). Outbound, it is the XMPP
 * core's remote router for `<address>@domain`: it keeps only allow-listed
 * content, swaps client ids for network ids and hands the payload to the
 * messenger (reliable, i.e. persisted before `route` resolves, or ephemeral).
 * Inbound, it is the messenger's `deliver`: it checks the payload again,
 * rebuilds a stanza and injects it into the XMPP server. Presence crosses only
 * between mutual contacts, throttled, with heartbeats and expiry.
 */
export class Gateway {
  private readonly config: GatewayConfig
  private readonly clock: Clock
  private readonly random: (length: number) => Uint8Array
  private readonly log: Logger
  private readonly ids: IdMap
  private readonly held: HeldRequests
  private readonly presence = new AccountPresence()
  private readonly liveness: ContactLiveness
  private readonly throttle: Throttle<{ route: Route; content: PresenceContent }>
  private timer: unknown
  private stopped = false

  constructor(private readonly options: GatewayOptions) {
    this.config = options.config
    this.clock = options.clock ?? realClock
    this.random = options.random ?? ((n) => new Uint8Array(randomBytes(n)))
    this.log = options.log.child({ c: 'gateway' })
    this.ids = new IdMap(options.store, options.config.idsPerContact)
    this.held = new HeldRequests(options.store, options.config.heldRequestsPerAccount)
    this.liveness = new ContactLiveness(this.clock)
    this.throttle = new Throttle(
      this.clock,
      options.config.presenceMinIntervalMs,
      (_key, { route, content }) => this.sendEphemeral(route, { kind: 'presence', ...content }),
    )
    options.messenger.on('heard', this.onHeard)
    options.messenger.on('unreachable', this.onUnreachable)
    this.scheduleTick()
  }

  // ---------- outbound: XMPP → network ----------

  /** The XMPP core's RemoteRouter: resolves once the stanza is accepted (a reliable one persisted). */
  async route(stanza: Element, to: { local: string; domain: string }): Promise<void> {
    // Errors never cross: they answer a stanza and could quote client XML.
    if (stanza.attrs.type === 'error') return
    const contact = this.contactOf(to)
    if (stanza.name === 'iq') {
      if (stanza.attrs.type === 'get' || stanza.attrs.type === 'set')
        throw new GatewayError('service-unavailable', 'network contacts answer no IQs (disco, vCard, ping…)')
      return
    }
    const route = this.senderRoute(stanza.attrs.from, contact)
    if (!route) return
    if (stanza.name === 'message') return this.routeMessage(stanza, route)
    if (stanza.name === 'presence') return this.routePresence(stanza, route)
  }

  private contactOf(to: { local: string; domain: string }): string {
    if (to.domain !== this.options.domain)
      throw new GatewayError(
        'remote-server-not-found',
        `${to.domain} is not reachable: only ${this.options.domain}`,
      )
    try {
      return encodeAddress(parseAddress(to.local))
    } catch (err) {
      throw new GatewayError(
        'item-not-found',
        `${to.local}@${to.domain} is neither an account here nor a network address`,
        { cause: err },
      )
    }
  }

  /** The sending account (from `from`), which needs an unlocked identity; undefined for the server itself. */
  private senderRoute(from: string | undefined, contact: string): Route | undefined {
    const sender = splitJid(from ?? '')
    if (!sender || sender.domain !== this.options.domain || sender.local === '') return undefined
    const self = this.options.identities.addressOf(sender.local)
    if (!self)
      throw new GatewayError('recipient-unavailable', 'your identity is locked on this bridge: log in again')
    return {
      account: sender.local,
      resource: sender.resource,
      self,
      contact,
      contactKey: parseAddress(contact),
    }
  }

  private async routeMessage(stanza: Element, route: Route): Promise<void> {
    const type = stanza.attrs.type ?? 'normal'
    if (type === 'groupchat')
      throw new GatewayError('service-unavailable', `${route.contact} is not a chat room`)
    if (type === 'headline')
      throw new GatewayError('feature-not-implemented', 'headline messages do not cross the network')
    // XEP-0198: after a stream the bridge could not resume, a client sends again what it saw
    // unacknowledged, with the same id; one already in the outbox must not go out twice.
    const clientId = stanza.attrs.id
    if (clientId && (await this.ids.networkIdOf(route.account, route.contact, clientId))) return
    const content = readMessage(stanza)
    const payload = await this.outboundRefs(route, content)
    if (!hasContent(payload)) return
    if (isChatStateOnly(payload)) return this.sendEphemeral(route, payload)
    const firstContact = !(await this.ids.hasWritten(route.account, route.contact))
    const bytes = this.encode(payload)
    // The id mapping is committed with the outbox entry: after a crash both exist or neither,
    // so a client's resend is recognised exactly when the message is already on its way.
    await this.ids.remember(route.account, route.contact, clientId, payload.id, (ops) =>
      this.sendReliable(route, bytes, ops),
    )
    if (firstContact) await this.releaseHeld(route)
  }

  /** The network form: a fresh network id, and the client's references turned into network ids (unknown ones dropped). */
  private async outboundRefs(route: Route, content: MessageContent): Promise<MessagePayload> {
    const { receipt, marker, replace, ...rest } = content
    const payload: MessagePayload = { kind: 'message', ...rest, id: this.random(NETWORK_ID_LENGTH) }
    const ref = (id: string) => this.networkRef(route, id)
    if (receipt) payload.receipt = await ref(receipt)
    if (marker) {
      const id = await ref(marker.id)
      if (id) payload.marker = { type: marker.type, id }
    }
    if (replace) payload.replace = await ref(replace)
    if (!payload.receipt) delete payload.receipt
    if (!payload.replace) delete payload.replace
    return payload
  }

  /** A client id names either a message this account sent (mapped) or one it received (its rendered network id). */
  private async networkRef(route: Route, clientId: string): Promise<Uint8Array | undefined> {
    return (await this.ids.networkIdOf(route.account, route.contact, clientId)) ?? parseRenderedId(clientId)
  }

  private async routePresence(stanza: Element, route: Route): Promise<void> {
    const type = stanza.attrs.type ?? 'available'
    const content = readPresence(
      stanza,
      type === 'subscribe' ? this.config.maxRequestTextChars : STATUS_CHARS,
    )
    if (!content) return
    switch (content.type) {
      case 'available':
      case 'unavailable':
        if (route.resource !== '')
          this.presence.update(route.account, route.resource, content, priorityOf(stanza))
        if (await this.mutual(route.account, route.contact)) this.offerPresence(route)
        return
      case 'probe':
        if (await this.mutual(route.account, route.contact))
          await this.sendEphemeral(route, { kind: 'presence', type: 'probe' })
        return
      default:
        await this.sendReliable(route, this.encode({ kind: 'presence', ...content }))
        // Asking for, or granting, a subscription accepts the contact: show what it sent before.
        if (content.type === 'subscribe' || content.type === 'subscribed') await this.releaseHeld(route)
    }
  }

  private offerPresence(route: Route): void {
    this.throttle.offer(`${route.account}/${route.contact}`, {
      route,
      content: this.presence.current(route.account),
    })
  }

  private encode(payload: StanzaPayload): Uint8Array {
    let bytes: Uint8Array
    try {
      bytes = encodeStanzaPayload(payload)
    } catch (err) {
      if (err instanceof PayloadError) throw new GatewayError('policy-violation', err.message, { cause: err })
      throw err
    }
    if (bytes.length > this.options.maxMessageBytes)
      throw new GatewayError(
        'policy-violation',
        `the message is ${bytes.length} bytes; at most ${this.options.maxMessageBytes} cross the network`,
      )
    return bytes
  }

  private async sendReliable(route: Route, bytes: Uint8Array, alsoWrite: BatchOp[] = []): Promise<void> {
    try {
      await this.options.messenger.send(route.self, route.contactKey, bytes, { reliable: true, alsoWrite })
    } catch (err) {
      if (!(err instanceof ParanoimError)) throw err
      throw new GatewayError('resource-constraint', err.message, { cause: err })
    }
  }

  /** Best effort (chat states, presence): a failure is logged, never the client's problem. */
  private async sendEphemeral(route: Route, payload: StanzaPayload): Promise<void> {
    try {
      await this.options.messenger.send(route.self, route.contactKey, this.encode(payload), {
        reliable: false,
      })
    } catch (err) {
      this.log.debug({ err, account: route.account }, 'ephemeral payload not sent')
    }
  }

  // ---------- inbound: network → XMPP ----------

  /** The messenger's deliver callback. Bad payloads are dropped; a throw means "retry later". */
  async deliver(message: InboundMessage): Promise<void> {
    const account = this.options.identities.accountOf(message.to)
    if (account === undefined || message.from.length !== 32) {
      this.log.warn('message for an identity not unlocked here, dropped')
      return
    }
    if (message.body.length > this.options.maxMessageBytes) {
      this.log.info({ account, bytes: message.body.length }, 'oversized payload dropped')
      return
    }
    let payload: StanzaPayload
    try {
      payload = decodeStanzaPayload(message.body)
    } catch (err) {
      if (!(err instanceof PayloadError)) throw err
      this.log.info({ account, code: err.code, reason: err.message }, 'malformed payload dropped')
      return
    }
    const contact = encodeAddress(message.from)
    this.liveness.heard(account, contact)
    if (payload.kind === 'message') return this.deliverMessage(account, contact, payload, message)
    return this.deliverPresence(account, contact, payload)
  }

  private async deliverMessage(
    account: string,
    contact: string,
    payload: MessagePayload,
    message: InboundMessage,
  ): Promise<void> {
    if (!this.config.acceptStrangerMessages && !(await this.known(account, contact))) {
      // A stranger's typing notification is not worth keeping; its messages wait as a request.
      if (isChatStateOnly(payload)) return
      await this.held.add(account, { from: contact, timestamp: message.timestamp, payload: message.body })
      this.log.info({ account }, 'message from a stranger held as a request')
      return
    }
    await this.inject(await this.inboundMessage(account, contact, payload, message.timestamp))
  }

  /** Whether `address` is a contact of the account, as for messages from strangers (group invitations ask too). */
  isContact(account: string, address: Uint8Array): Promise<boolean> {
    return this.known(account, encodeAddress(address))
  }

  /** A contact the account knows: any subscription, a pending ask of its own, or someone it wrote to. */
  private async known(account: string, contact: string): Promise<boolean> {
    const item = await this.options.xmpp.rosterItem(account, this.jid(contact))
    if (item && (item.subscription !== 'none' || item.askOut)) return true
    return this.ids.hasWritten(account, contact)
  }

  private async inboundMessage(
    account: string,
    contact: string,
    payload: MessagePayload,
    timestamp: number,
  ): Promise<Element> {
    const ref = async (id: Uint8Array) =>
      (await this.ids.clientIdOf(account, contact, id)) ?? renderNetworkId(id)
    const stanza = buildMessage(
      payload,
      {
        id: renderNetworkId(payload.id),
        receipt: payload.receipt && (await ref(payload.receipt)),
        marker: payload.marker && (await ref(payload.marker.id)),
        replace: payload.replace && (await ref(payload.replace)),
      },
      this.jid(contact),
      this.accountJid(account),
    )
    if (this.clock.now() - timestamp > DELAY_AFTER_MS)
      stanza.cnode(delayElement(this.options.domain, timestamp))
    return stanza
  }

  private async deliverPresence(account: string, contact: string, payload: PresencePayload): Promise<void> {
    const from = this.jid(contact)
    const to = this.accountJid(account)
    const limit = payload.type === 'subscribe' ? this.config.maxRequestTextChars : STATUS_CHARS
    const content: PresencePayload = payload.status
      ? { ...payload, status: truncateChars(payload.status, limit) }
      : payload
    switch (payload.type) {
      case 'available':
        if (!(await this.mutual(account, contact))) return
        this.liveness.showAvailable(account, contact)
        return this.inject(buildPresence(content, from, to))
      case 'unavailable':
        if (!this.liveness.hide(account, contact) && !(await this.mutual(account, contact))) return
        return this.inject(buildPresence(content, from, to))
      case 'probe':
        if (await this.mutual(account, contact)) await this.inject(buildPresence(content, from, to))
        return
      default:
        // Subscription stanzas always go through: a stranger's request is an ordinary request with its text.
        await this.inject(buildPresence(content, from, to))
        return this.afterSubscriptionChange(account, contact)
    }
  }

  /**
   * Presence sent while a subscription was still being agreed may have been
   * refused on either side; once mutual, exchange presence afresh (our own,
   * and a probe for theirs). Once not mutual, the contact is shown offline.
   */
  private async afterSubscriptionChange(account: string, contact: string): Promise<void> {
    const self = this.options.identities.addressOf(account)
    if (!self) return
    const route: Route = { account, resource: '', self, contact, contactKey: parseAddress(contact) }
    if (await this.mutual(account, contact)) {
      this.offerPresence(route)
      await this.sendEphemeral(route, { kind: 'presence', type: 'probe' })
    } else if (this.liveness.hide(account, contact)) await this.showOffline(account, contact)
  }

  /** Hands a stanza to the XMPP server; refusals that waiting can cure are rethrown so the messenger retries. */
  private async inject(stanza: Element): Promise<void> {
    try {
      await this.options.xmpp.routeInbound(stanza)
    } catch (err) {
      if (!isPermanentRefusal(err)) throw err
      this.log.info(
        { condition: (err as { condition: string }).condition },
        'the XMPP server refused a stanza',
      )
    }
  }

  private async showOffline(account: string, contact: string): Promise<void> {
    try {
      await this.inject(
        buildPresence({ kind: 'presence', type: 'unavailable' }, this.jid(contact), this.accountJid(account)),
      )
    } catch (err) {
      this.log.debug({ err, account }, 'offline presence not shown')
    }
  }

  // ---------- held requests ----------

  /** Messages from strangers waiting for the user to accept them (web UI). */
  async heldRequests(account: string): Promise<HeldRequestView[]> {
    const out: HeldRequestView[] = []
    for (const held of await this.held.list(account)) {
      const payload = decodeStanzaPayload(held.payload)
      if (payload.kind !== 'message') continue
      out.push({ from: held.from, timestamp: held.timestamp, body: payload.body ?? payload.oob?.url ?? '' })
    }
    return out
  }

  private async releaseHeld(route: Route): Promise<void> {
    try {
      await this.held.release(route.account, route.contact, async (held) => {
        const payload = decodeStanzaPayload(held.payload)
        if (payload.kind !== 'message') return
        await this.inject(await this.inboundMessage(route.account, route.contact, payload, held.timestamp))
      })
    } catch (err) {
      this.log.warn({ err, account: route.account }, 'held messages not released yet')
    }
  }

  // ---------- presence upkeep ----------

  private readonly onHeard = ({ from, to }: PeerEvent) => {
    const account = this.options.identities.accountOf(to)
    if (account !== undefined && from.length === 32) this.liveness.heard(account, encodeAddress(from))
  }

  private readonly onUnreachable = ({ from, to }: PeerEvent) => {
    const account = this.options.identities.accountOf(from)
    if (account === undefined || to.length !== 32) return
    const contact = encodeAddress(to)
    if (this.liveness.hide(account, contact)) void this.showOffline(account, contact)
  }

  /** Every heartbeat: presence again to mutual contacts, and silent contacts shown offline. */
  private scheduleTick(): void {
    if (this.stopped) return
    this.timer = this.clock.setTimeout(() => {
      this.tick()
        .catch((err) => this.log.warn({ err }, 'presence heartbeat failed'))
        .finally(() => this.scheduleTick())
    }, this.config.presenceHeartbeatMs)
  }

  private async tick(): Promise<void> {
    const silentMs = this.config.presenceMissedHeartbeats * this.config.presenceHeartbeatMs
    for (const { account, contact } of this.liveness.expire(silentMs))
      await this.showOffline(account, contact)
    for (const account of this.presence.available()) {
      const self = this.options.identities.addressOf(account)
      if (!self) continue
      for (const item of await this.options.xmpp.rosterItems(account)) {
        const contact = this.contactOfJid(item.jid)
        if (contact === undefined || item.subscription !== 'both') continue
        this.offerPresence({ account, resource: '', self, contact, contactKey: parseAddress(contact) })
      }
    }
  }

  stop(): void {
    this.stopped = true
    this.clock.clearTimeout(this.timer)
    this.throttle.stop()
    this.options.messenger.off('heard', this.onHeard)
    this.options.messenger.off('unreachable', this.onUnreachable)
  }

  // ---------- helpers ----------

  private async mutual(account: string, contact: string): Promise<boolean> {
    return (await this.options.xmpp.rosterItem(account, this.jid(contact)))?.subscription === 'both'
  }

  private jid(contact: string): string {
    return `${contact}@${this.options.domain}`
  }

  private accountJid(account: string): string {
    return `${account}@${this.options.domain}`
  }

  private contactOfJid(jid: string): string | undefined {
    const parts = splitJid(jid)
    if (!parts || parts.domain !== this.options.domain) return undefined
    try {
      return encodeAddress(parseAddress(parts.local))
    } catch {
      return undefined
    }
  }
}

/** `local@domain/resource` split (lowercased local and domain, as the XMPP core normalises them). */
function splitJid(jid: string): { local: string; domain: string; resource: string } | undefined {
  const slash = jid.indexOf('/')
  const bare = slash < 0 ? jid : jid.slice(0, slash)
  const at = bare.indexOf('@')
  if (at < 0) return undefined
  return {
    local: bare.slice(0, at).toLowerCase(),
    domain: bare.slice(at + 1).toLowerCase(),
    resource: slash < 0 ? '' : jid.slice(slash + 1),
  }
}

/** RFC 6121 §4.7.2.3: -128..127, 0 when absent or invalid. */
function priorityOf(stanza: Element): number {
  const value = Number(stanza.getChildText('priority') ?? '0')
  return Number.isInteger(value) && value >= -128 && value <= 127 ? value : 0
}

/** An XMPP refusal that waiting cannot cure (anything but type "wait"); everything else is retried. */
function isPermanentRefusal(err: unknown): boolean {
  if (typeof err !== 'object' || err === null || !('condition' in err)) return false
  return (err as { type?: unknown }).type !== 'wait'
}

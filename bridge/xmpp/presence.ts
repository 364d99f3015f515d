import { clone, createElement, type Element, parse } from 'ltx'
import type { XmppCore } from './core.js'
import { XMPPError } from './errors.js'
import { JID } from './jid.js'
import { NS } from './namespaces.js'
import type { Rosters } from './roster.js'
import type { RosterItem } from './roster-store.js'
import type { ClientSession } from './session.js'
import { delayElement } from './stanza.js'

export type SubscriptionType = 'subscribe' | 'subscribed' | 'unsubscribe' | 'unsubscribed'

/** Entities one session may send directed presence to (each is remembered until it goes offline). */
const MAX_DIRECTED_PRESENCE = 1000

const SUBSCRIPTION_TYPES = new Set<string>(['subscribe', 'subscribed', 'unsubscribe', 'unsubscribed'])

const hasFrom = (item: RosterItem | undefined) =>
  item?.subscription === 'from' || item?.subscription === 'both'
const hasTo = (item: RosterItem | undefined) => item?.subscription === 'to' || item?.subscription === 'both'

function withTo(sub: RosterItem['subscription'], on: boolean): RosterItem['subscription'] {
  const from = sub === 'from' || sub === 'both'
  return on ? (from ? 'both' : 'to') : from ? 'from' : 'none'
}

function withFrom(sub: RosterItem['subscription'], on: boolean): RosterItem['subscription'] {
  const to = sub === 'to' || sub === 'both'
  return on ? (to ? 'both' : 'from') : to ? 'to' : 'none'
}

/**
 * RFC 6121 presence: broadcast of a session's presence to subscribers and own
 * resources, probes, directed presence, and the subscription state machine
 * (Appendix A) for both sides, persisted in the roster.
 */
export class PresenceService {
  constructor(
    private readonly core: XmppCore,
    private readonly rosters: Rosters,
  ) {}

  async outbound(session: ClientSession, stanza: Element, to: JID | undefined): Promise<void> {
    const type = stanza.attrs.type
    if (!to) {
      if (type === undefined || type === 'unavailable') return this.broadcast(session, stanza)
      if (type === 'error') return
      throw new XMPPError('bad-request', `presence of type ${type} needs a "to"`)
    }
    if (type !== undefined && SUBSCRIPTION_TYPES.has(type)) {
      return this.outboundSubscription(session.account, type as SubscriptionType, to.bare, stanza)
    }
    if (type === 'probe') return
    if (type === undefined) {
      if (
        session.directedPresence.size >= MAX_DIRECTED_PRESENCE &&
        !session.directedPresence.has(to.toString())
      ) {
        throw new XMPPError('policy-violation', 'directed presence to too many entities')
      }
      session.directedPresence.add(to.toString())
    } else if (type === 'unavailable') session.directedPresence.delete(to.toString())
    else if (type !== 'error') throw new XMPPError('bad-request', `unknown presence type ${type}`)
    await this.core.route(stanza, session)
  }

  async inbound(stanza: Element, from: JID, to: JID, origin: ClientSession | undefined): Promise<void> {
    const type = stanza.attrs.type
    if (type !== undefined && SUBSCRIPTION_TYPES.has(type)) {
      return this.inboundSubscription(type as SubscriptionType, from.bare, to.local, stanza)
    }
    if (type === 'probe') {
      // The hooks see probes too (XEP-0191 §3.5: a blocked prober is left unanswered); the server answers them.
      if ((await this.core.deliver(stanza, 'presence', from, to, [], origin)) === undefined) return
      return this.answerProbe(from, to.local)
    }
    // RFC 6121 §8.5.2.1.1 / §8.5.3.2.3: to the bare JID → every available resource; to a missing resource → dropped.
    const targets = to.isBare
      ? this.core.sessions.ofAccount(to.local).filter((s) => s.available)
      : [this.core.sessions.byJid(to)].filter((s): s is ClientSession => s !== undefined)
    await this.core.deliver(stanza, 'presence', from, to, targets, origin)
  }

  /** Roster removal (RFC 6121 §2.5.2): cancel both directions, then delete the item. */
  async removeContact(account: string, contact: JID): Promise<void> {
    const item = await this.rosters.get(account, contact)
    await this.rosters.update(account, contact, () => undefined)
    if (hasTo(item) || item?.askOut) await this.send(account, contact, 'unsubscribe')
    if (hasFrom(item) || item?.pendingIn) {
      await this.send(account, contact, 'unsubscribed')
      await this.sendUnavailable(account, contact)
    }
  }

  /** The session went away without saying so: tell everyone who saw it online (RFC 6121 §4.5.2). */
  async sessionEnded(session: ClientSession): Promise<void> {
    if (!session.available) return
    await this.broadcast(
      session,
      createElement('presence', { type: 'unavailable', from: session.jid.toString() }),
    )
  }

  private async broadcast(session: ClientSession, stanza: Element): Promise<void> {
    const available = stanza.attrs.type !== 'unavailable'
    const initial = available && !session.available
    session.available = available
    session.priority = available ? priority(stanza) : 0
    session.presence = available ? stanza : undefined
    const items = await this.core.roster.list(session.account)
    const recipients = items.filter((item) => hasFrom(item)).map((item) => item.jid)
    for (const other of this.core.sessions.ofAccount(session.account)) {
      if (other.available || other === session) recipients.push(other.jid.toString())
    }
    if (!available) recipients.push(...session.directedPresence)
    if (!available) session.directedPresence.clear()
    for (const to of new Set(recipients)) await this.sendCopy(stanza, session.jid.toString(), to)
    if (!initial) return
    for (const other of this.core.sessions.ofAccount(session.account)) {
      if (other !== session && other.presence)
        session.send(addressed(other.presence, other.jid.toString(), session.jid.toString()))
    }
    for (const item of items) {
      if (hasTo(item))
        await this.sendCopy(createElement('presence', { type: 'probe' }), session.jid.bareString, item.jid)
      if (item.pendingIn) session.send(parse(item.pendingIn))
    }
    if (session.priority >= 0) await this.deliverOffline(session)
    this.core.emit('session-available', session)
  }

  private async deliverOffline(session: ClientSession): Promise<void> {
    const { offline, domain } = this.core
    for (const [key, message] of await offline.list(session.account)) {
      const stanza = parse(message.stanza)
      if (!stanza.getChild('delay', NS.delay)) stanza.cnode(delayElement(domain, message.stamp))
      session.send(stanza)
      await offline.remove(key)
    }
  }

  private async answerProbe(from: JID, account: string): Promise<void> {
    const item = await this.rosters.get(account, from)
    if (!hasFrom(item)) return
    const available = this.core.sessions.ofAccount(account).filter((s) => s.available && s.presence)
    if (available.length === 0) {
      await this.sendCopy(
        createElement('presence', { type: 'unavailable' }),
        `${account}@${this.core.domain}`,
        from.toString(),
      )
    }
    for (const s of available) await this.sendCopy(s.presence!, s.jid.toString(), from.toString())
  }

  /** RFC 6121 §3, the user's server: what the local user `account` sends to `contact` (also the web UI's approve/deny). */
  async outboundSubscription(account: string, type: SubscriptionType, contact: JID, stanza: Element) {
    const item = await this.rosters.get(account, contact)
    switch (type) {
      case 'subscribe':
        if (!hasTo(item))
          await this.rosters.update(account, contact, (i) => ({ ...i, askOut: true, hidden: false }))
        return this.send(account, contact, 'subscribe', stanza)
      case 'subscribed': {
        if (item?.pendingIn) return this.grant(account, contact, { hidden: false })
        if (hasFrom(item)) return
        // RFC 6121 §3.4: pre-approval, remembered until the contact asks.
        const stored = await this.rosters.update(account, contact, (i) => ({
          ...i,
          approved: true,
          hidden: false,
        }))
        // The contact's request may have landed meanwhile: then this answers it.
        if (stored?.pendingIn) return this.grant(account, contact, { hidden: false })
        return
      }
      case 'unsubscribe':
        await this.rosters.update(account, contact, (i) => ({
          ...i,
          subscription: withTo(i.subscription, false),
          askOut: false,
        }))
        return this.send(account, contact, 'unsubscribe', stanza)
      case 'unsubscribed':
        await this.rosters.update(account, contact, (i) => ({
          ...i,
          subscription: withFrom(i.subscription, false),
          pendingIn: undefined,
          approved: false,
        }))
        await this.send(account, contact, 'unsubscribed')
        return this.sendUnavailable(account, contact)
    }
  }

  /** `contact` may see `account`'s presence from now on: record it, tell the contact, send the current presence. */
  private async grant(account: string, contact: JID, extra: Partial<RosterItem>): Promise<void> {
    await this.rosters.update(account, contact, (i) => ({
      ...i,
      ...extra,
      subscription: withFrom(i.subscription, true),
      pendingIn: undefined,
      approved: false,
    }))
    await this.send(account, contact, 'subscribed')
    for (const s of this.core.sessions.ofAccount(account)) {
      if (s.available && s.presence) await this.sendCopy(s.presence, s.jid.toString(), contact.toString())
    }
  }

  /** RFC 6121 §3, the contact's server: what `contact` sends to the local user `account`. */
  private async inboundSubscription(type: SubscriptionType, contact: JID, account: string, stanza: Element) {
    const item = await this.rosters.get(account, contact)
    stanza.attrs.from = contact.toString()
    switch (type) {
      case 'subscribe': {
        if (hasFrom(item)) return this.send(account, contact, 'subscribed')
        if (item?.approved) return this.grant(account, contact, {})
        // Strangers' requests are kept as hidden items; a full roster refuses more (spam bound).
        if (!item && (await this.core.roster.count(account)) >= this.core.config.limits.maxRosterItems) return
        const stored = await this.rosters.update(account, contact, (i) => ({
          ...i,
          pendingIn: stanza.toString(),
        }))
        // The user's pre-approval may have landed meanwhile: then it answers this request.
        if (stored?.approved) return this.grant(account, contact, {})
        return this.toAvailable(stanza, contact, account)
      }
      case 'subscribed':
        if (!item?.askOut) return
        await this.rosters.update(account, contact, (i) => ({
          ...i,
          subscription: withTo(i.subscription, true),
          askOut: false,
        }))
        return this.toAvailable(stanza, contact, account)
      case 'unsubscribe':
        if (!hasFrom(item) && !item?.pendingIn) return
        await this.rosters.update(account, contact, (i) => ({
          ...i,
          subscription: withFrom(i.subscription, false),
          pendingIn: undefined,
          approved: false,
        }))
        await this.toAvailable(stanza, contact, account)
        return this.sendUnavailable(account, contact)
      case 'unsubscribed':
        if (!hasTo(item) && !item?.askOut) return
        await this.rosters.update(account, contact, (i) => ({
          ...i,
          subscription: withTo(i.subscription, false),
          askOut: false,
        }))
        return this.toAvailable(stanza, contact, account)
    }
  }

  private async toAvailable(stanza: Element, from: JID, account: string): Promise<void> {
    const targets = this.core.sessions.ofAccount(account).filter((s) => s.available)
    await this.core.deliver(stanza, 'presence', from, new JID(account, this.core.domain), targets, undefined)
  }

  /** Sends a subscription stanza from the account's bare JID (RFC 6121 §3.1.2 stamps the bare JID). */
  private async send(
    account: string,
    contact: JID,
    type: SubscriptionType,
    original?: Element,
  ): Promise<void> {
    const stanza = createElement('presence', {
      type,
      from: `${account}@${this.core.domain}`,
      to: contact.toString(),
    })
    for (const child of original?.getChildElements() ?? []) stanza.cnode(clone(child))
    await this.core.route(stanza, undefined)
  }

  private async sendUnavailable(account: string, contact: JID): Promise<void> {
    for (const s of this.core.sessions.ofAccount(account)) {
      if (s.available)
        await this.sendCopy(
          createElement('presence', { type: 'unavailable' }),
          s.jid.toString(),
          contact.toString(),
        )
    }
  }

  /** Routes a copy of a presence with new addresses; a failure to one recipient does not stop the others. */
  private async sendCopy(stanza: Element, from: string, to: string): Promise<void> {
    try {
      await this.core.route(addressed(stanza, from, to), undefined)
    } catch (err) {
      if (!(err instanceof XMPPError)) throw err
      this.core.log.debug({ to, condition: err.condition }, 'presence not delivered')
    }
  }
}

function addressed(stanza: Element, from: string, to: string): Element {
  const copy = clone(stanza)
  copy.attrs.from = from
  copy.attrs.to = to
  return copy
}

/** RFC 6121 §4.7.2.3: an integer from -128 to +127, 0 when absent or invalid. */
function priority(stanza: Element): number {
  const text = stanza.getChildText('priority')
  const value = text === null ? 0 : Number.parseInt(text, 10)
  return Number.isInteger(value) && value >= -128 && value <= 127 ? value : 0
}

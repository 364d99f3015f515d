import { parse } from 'ltx'
import { encodeAddress, isAddress, parseAddress } from '../crypto/address.js'
import { ParanoimError } from '../errors.js'
import { XMPPError } from '../xmpp/errors.js'
import type { SubscriptionType } from '../xmpp/presence.js'
import type { RosterItem } from '../xmpp/roster-store.js'
import type { XmppServer } from '../xmpp/server.js'
import type { BindingsService } from './bindings.js'
import type { ContactView } from './status.js'

/** The roster changed on this bridge, but the stanza could not be sent to the contact (e.g. no route yet). */
export class ContactNotSentError extends ParanoimError {
  constructor(reason: string) {
    super('CONTACT_NOT_SENT', `saved on this bridge, but not sent to the contact: ${reason}`)
  }
}

/** What contacts need from the XMPP server: the roster and acting for the account. */
export type ContactsXmpp = Pick<XmppServer, 'rosterItems' | 'rosterItem' | 'subscriptionAs'>

export interface ContactsServiceOptions {
  xmpp: ContactsXmpp
  bindings: BindingsService
  /** The XMPP domain: a network contact is `<address>@domain`. */
  domain: string
  /** The identity's address for a nickname (the bindings' owner key). */
  addressOf(nickname: string): Promise<string>
  /** Messages from strangers the gateway keeps as requests (`from` is the sender's JID). */
  heldRequests(nickname: string): Promise<Array<{ from: string; timestamp: number; body: string }>>
}

/** A message from someone not (yet) a contact, kept until the user accepts them. */
export interface HeldMessage {
  address: string
  /** The sender's time, milliseconds since the epoch. */
  timestamp: number
  body: string
}

/**
 * Network contacts and requests of one identity, as the web UI shows them.
 * They are the account's roster items whose JID is `<address>@domain`; acting
 * on them goes through the XMPP server's subscription state machine, exactly
 * as if the user's Jabber client had answered, so both stay in step.
 */
export class ContactsService {
  constructor(private readonly options: ContactsServiceOptions) {}

  async list(nickname: string): Promise<ContactView[]> {
    const { xmpp, bindings, domain } = this.options
    const owner = await this.options.addressOf(nickname)
    const names = new Map((await bindings.list(owner)).map((b) => [b.address, b.name]))
    const out: ContactView[] = []
    for (const item of await xmpp.rosterItems(nickname)) {
      const [local, itemDomain] = item.jid.split('@')
      if (itemDomain !== domain || local === undefined || !isAddress(local)) continue
      const address = encodeAddress(parseAddress(local))
      const state = contactState(item)
      if (!state) continue
      out.push({
        address,
        name: names.get(address) ?? item.name ?? null,
        state,
        requestText: item.pendingIn ? requestText(item.pendingIn) : null,
      })
    }
    return out.sort((a, b) => (a.name ?? a.address).localeCompare(b.name ?? b.address))
  }

  /** Messages from strangers held as requests, oldest first. */
  async held(nickname: string): Promise<HeldMessage[]> {
    const out: HeldMessage[] = []
    for (const held of await this.options.heldRequests(nickname)) {
      const local = held.from.split('@')[0] ?? ''
      if (isAddress(local))
        out.push({ address: encodeAddress(parseAddress(local)), timestamp: held.timestamp, body: held.body })
    }
    return out.sort((a, b) => a.timestamp - b.timestamp)
  }

  /**
   * Accepts a request (and asks for the contact's presence in return, so both see each other).
   * An answer saved but not sent does not skip asking back; its error is thrown afterwards.
   */
  async approve(nickname: string, address: string): Promise<void> {
    const jid = this.jid(address)
    const unsent = await this.subscription(nickname, 'subscribed', jid).then(
      () => undefined,
      (err: unknown) => {
        if (err instanceof ContactNotSentError) return err
        throw err
      },
    )
    const item = await this.options.xmpp.rosterItem(nickname, jid)
    if (item && !item.askOut && item.subscription !== 'to' && item.subscription !== 'both')
      await this.subscription(nickname, 'subscribe', jid)
    if (unsent) throw unsent
  }

  async deny(nickname: string, address: string): Promise<void> {
    await this.subscription(nickname, 'unsubscribed', this.jid(address))
  }

  /**
   * Sends a contact request with its text. Adding someone means wanting to
   * see each other: their request back is approved in advance (RFC 6121 §3.4).
   */
  async request(nickname: string, address: string, text: string): Promise<void> {
    const jid = this.jid(address)
    await this.subscription(nickname, 'subscribed', jid)
    await this.subscription(nickname, 'subscribe', jid, text)
  }

  /** The XMPP server saves the roster change before it routes the stanza: a routing refusal means "saved, not sent". */
  private async subscription(
    nickname: string,
    type: SubscriptionType,
    jid: string,
    text?: string,
  ): Promise<void> {
    try {
      await this.options.xmpp.subscriptionAs(nickname, type, jid, text)
    } catch (err) {
      if (err instanceof XMPPError) throw new ContactNotSentError(err.text ?? err.condition)
      throw err
    }
  }

  private jid(address: string): string {
    return `${encodeAddress(parseAddress(address))}@${this.options.domain}`
  }
}

/** The request text: the `<status/>` of the stored subscription request (written by our own XMPP core). */
function requestText(stanza: string): string | null {
  return parse(stanza).getChildText('status')
}

function contactState(item: RosterItem): ContactView['state'] | undefined {
  if (item.subscription === 'both') return 'mutual'
  if (item.pendingIn) return 'request-in'
  // One direction only, or asked and not yet answered: the other side has not agreed (yet).
  if (item.askOut || item.subscription !== 'none') return 'request-out'
  return undefined
}

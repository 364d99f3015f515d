import { createElement, type Element } from 'ltx'
import { KeyedSerial } from '../messaging/serial.js'
import type { XmppCore } from './core.js'
import { XMPPError } from './errors.js'
import { JID } from './jid.js'
import type { XmppModule } from './module.js'
import { NS } from './namespaces.js'
import { emptyRosterItem, type RosterItem } from './roster-store.js'

/**
 * Names for contacts that come from outside the XMPP layer (the bridge's
 * bindings): `onChange(listener)` is told which account's names changed.
 */
export interface RosterNames {
  nameFor(account: string, contact: JID): Promise<string | undefined>
  onChange(listener: (account: string) => void): void
}

/** A roster `<item/>` as clients see it (RFC 6121 §2.1.2): a name set in a client wins over a bound one. */
export function rosterItemElement(item: RosterItem): Element {
  const el = createElement('item', {
    jid: item.jid,
    name: item.name ?? item.boundName,
    subscription: item.subscription,
    ask: item.askOut ? 'subscribe' : undefined,
    approved: item.approved ? 'true' : undefined,
  })
  for (const group of item.groups) el.c('group').t(group)
  return el
}

/**
 * Roster changes with their side effects: every write bumps the version
 * (XEP-0237) and is pushed to the account's interested resources (RFC 6121 §2.1.6).
 */
export class Rosters {
  private readonly serial = new KeyedSerial()

  constructor(
    readonly core: XmppCore,
    private readonly names?: RosterNames,
  ) {
    names?.onChange((account) => {
      this.relabel(account).catch((err) => core.log.error({ err, account }, 'roster names not updated'))
    })
  }

  get(account: string, contact: JID): Promise<RosterItem | undefined> {
    return this.core.roster.get(account, contact.bareString)
  }

  /** Applies `change` to the item (a hidden empty one when absent); undefined from `change` removes it. */
  update(
    account: string,
    contact: JID,
    change: (item: RosterItem) => RosterItem | undefined,
  ): Promise<RosterItem | undefined> {
    // One change at a time per item: a client's answer and a contact's request arriving
    // together must both land (read-modify-write would lose one).
    return this.serial.run(`${account}/${contact.bareString}`, () => this.apply(account, contact, change))
  }

  private async apply(
    account: string,
    contact: JID,
    change: (item: RosterItem) => RosterItem | undefined,
  ): Promise<RosterItem | undefined> {
    const jid = contact.bareString
    const before = await this.core.roster.get(account, jid)
    const after = change(
      before
        ? { ...before, groups: [...before.groups] }
        : { ...emptyRosterItem(jid), boundName: await this.names?.nameFor(account, contact.bare) },
    )
    if (!before && !after) return undefined
    if (before && after && JSON.stringify(before) === JSON.stringify(after)) return after
    const version = await this.core.roster.write(account, jid, after)
    // Clients see only visible items' attributes; internal changes (a pending request) are not pushed.
    const shown = (item: RosterItem | undefined) =>
      item && !item.hidden ? rosterItemElement(item).toString() : ''
    if (shown(before) !== shown(after))
      this.push(account, contact.bare, after && !after.hidden ? after : undefined, version)
    return after
  }

  /** Brings every item's bound name up to date after the account's names changed (pushing what clients see). */
  private async relabel(account: string): Promise<void> {
    for (const item of await this.core.roster.list(account)) {
      const contact = JID.parse(item.jid)
      const boundName = await this.names?.nameFor(account, contact)
      if (boundName !== item.boundName) await this.update(account, contact, (i) => ({ ...i, boundName }))
    }
  }

  private push(account: string, contact: JID, item: RosterItem | undefined, version: number): void {
    const element = item
      ? rosterItemElement(item)
      : createElement('item', { jid: contact.bareString, subscription: 'remove' })
    for (const session of this.core.sessions.ofAccount(account)) {
      if (!session.interested) continue
      const query = createElement('query', { xmlns: NS.roster, ver: String(version) }, element)
      session.send(
        createElement('iq', { type: 'set', id: `push-${version}`, to: session.jid.toString() }, query),
      )
    }
    this.core.emit('roster-changed', { account, jid: contact, item })
  }
}

/** RFC 6121 §2: roster get (with XEP-0237 versioning) and set/remove. */
export function rosterModule(
  rosters: Rosters,
  presence: { removeContact(account: string, contact: JID): Promise<void> },
): XmppModule {
  return {
    name: 'roster',
    streamFeatures: () => [createElement('ver', { xmlns: NS.rosterVersioning })],
    setup(ctx) {
      ctx.iq({ type: 'get', name: 'query', xmlns: NS.roster, on: ['account'] }, async (req) => {
        const { session } = req
        if (!session || req.account !== session.account) throw new XMPPError('forbidden', 'not your roster')
        const { core } = rosters
        const client = core.sessions.byJid(session.jid)
        if (client) client.interested = true
        const version = String(await core.roster.version(session.account))
        if (req.payload.attrs.ver === version) return undefined
        const items = (await core.roster.list(session.account)).filter((item) => !item.hidden)
        return createElement('query', { xmlns: NS.roster, ver: version }, ...items.map(rosterItemElement))
      })
      ctx.iq({ type: 'set', name: 'query', xmlns: NS.roster, on: ['account'] }, async (req) => {
        const { session } = req
        if (!session || req.account !== session.account) throw new XMPPError('forbidden', 'not your roster')
        const items = req.payload.getChildren('item')
        if (items.length !== 1) throw new XMPPError('bad-request', 'a roster set carries exactly one item')
        const item = items[0]!
        const contact = JID.parse(item.attrs.jid ?? '').bare
        if (contact.equals(session.jid.bare)) throw new XMPPError('not-allowed', 'you cannot add yourself')
        if (item.attrs.subscription === 'remove') {
          if (!(await rosters.get(session.account, contact))) throw new XMPPError('item-not-found')
          await presence.removeContact(session.account, contact)
          return undefined
        }
        const groups = item.getChildren('group').map((g) => g.getText())
        if (new Set(groups).size !== groups.length) throw new XMPPError('bad-request', 'duplicate group')
        if (groups.some((g) => g === '' || g.length > 1024))
          throw new XMPPError('not-acceptable', 'bad group name')
        const existing = await rosters.get(session.account, contact)
        // A client echoing the bound name (e.g. when changing groups) has not named the contact itself.
        const name = item.attrs.name === existing?.boundName ? undefined : item.attrs.name
        if (name !== undefined && name.length > 1024) throw new XMPPError('not-acceptable', 'name too long')
        if (!existing || existing.hidden) {
          const count = await rosters.core.roster.count(session.account)
          if (count >= ctx.config.limits.maxRosterItems)
            throw new XMPPError('not-allowed', 'the roster is full')
        }
        await rosters.update(session.account, contact, (current) => ({
          ...current,
          name,
          groups,
          hidden: false,
        }))
        return undefined
      })
    },
  }
}

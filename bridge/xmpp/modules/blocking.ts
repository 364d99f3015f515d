import { randomBytes } from 'node:crypto'
import { clone, createElement, type Element } from 'ltx'
import { z } from 'zod'
import { XMPPError } from '../errors.js'
import { JID } from '../jid.js'
import { SessionKey, type XmppModule } from '../module.js'
import { ownSession } from './own-session.js'

const WHY = 'the blocklist belongs to the account itself'
/** Entries per blocklist: it lives in memory while the account is in use. */
const MAX_BLOCKED = 10_000

export const NS_BLOCKING = 'urn:xmpp:blocking'
const NS_BLOCKING_ERRORS = 'urn:xmpp:blocking:errors'

/** The session asked for the blocklist, so it gets pushes (XEP-0191 §3.3). */
const INTERESTED = new SessionKey<boolean>('blocklist-interested')

/** The `<item jid/>` JIDs of a block/unblock request; a malformed JID → jid-malformed (XEP-0191 §3.3). */
function itemJids(payload: Element): string[] {
  return payload.getChildren('item').map((item) => {
    if (item.attrs.jid === undefined) throw new XMPPError('bad-request', 'an item without jid')
    return JID.parse(item.attrs.jid).toString()
  })
}

/** XEP-0191 §3.5: a blocked JID matches the full JID, the bare JID or the domain of the entity. */
function matches(blocked: ReadonlySet<string>, jid: JID): boolean {
  return blocked.has(jid.toString()) || blocked.has(jid.bareString) || blocked.has(jid.domain)
}

const itemsElement = (name: string, jids: readonly string[]) =>
  createElement(name, { xmlns: NS_BLOCKING }, ...jids.map((jid) => createElement('item', { jid })))

/**
 * XEP-0191 blocking command: a per-account blocklist. Stanzas from a blocked
 * JID are dropped (presence) or bounced with service-unavailable (§3.5); the
 * account's own stanzas to it are refused with not-acceptable (§3.6), its
 * presence no longer reaches it. Changes are pushed to the resources that asked.
 */
export const blockingModule: XmppModule = {
  name: 'blocking',
  features: [NS_BLOCKING],
  accountFeatures: [NS_BLOCKING],
  setup(ctx) {
    const table = ctx.table('jids', z.literal(true))
    const cache = new Map<string, Set<string>>()

    async function blocklist(account: string): Promise<Set<string>> {
      let set = cache.get(account)
      if (!set) {
        set = new Set()
        for await (const key of table.keys({ prefix: `${account}/` })) set.add(key.slice(account.length + 1))
        cache.set(account, set)
      }
      return set
    }

    async function isBlocking(account: string, jid: JID): Promise<boolean> {
      return (await ctx.accountExists(account)) && matches(await blocklist(account), jid)
    }

    function push(account: string, payload: Element): void {
      for (const session of ctx.sessions.ofAccount(account)) {
        if (!session.get(INTERESTED)) continue
        session.send(
          createElement(
            'iq',
            {
              type: 'set',
              id: randomBytes(8).toString('hex'),
              from: session.jid.bareString,
              to: session.jid.toString(),
            },
            payload,
          ),
        )
      }
    }

    /** §3.3: the contact stops seeing the account online, and the account's clients stop seeing the contact. */
    async function cutPresence(account: string, jid: string): Promise<void> {
      for (const session of ctx.sessions.ofAccount(account)) {
        if (!session.available) continue
        const unavailable = createElement('presence', {
          type: 'unavailable',
          from: session.jid.toString(),
          to: jid,
        })
        await ctx.route(unavailable).catch(() => undefined)
        session.send(
          createElement('presence', { type: 'unavailable', from: jid, to: session.jid.toString() }),
        )
      }
    }

    /** §3.4: after an unblock, presence flows again where the subscriptions say it should. */
    async function restorePresence(account: string, jid: string): Promise<void> {
      const item = await ctx.roster.item(account, JID.parse(jid))
      const send = (stanza: Element) => ctx.route(stanza).catch(() => undefined)
      if (item?.subscription === 'from' || item?.subscription === 'both') {
        for (const session of ctx.sessions.ofAccount(account)) {
          if (!session.available || !session.presence) continue
          const presence = clone(session.presence)
          Object.assign(presence.attrs, { from: session.jid.toString(), to: jid })
          await send(presence)
        }
      }
      if (item?.subscription === 'to' || item?.subscription === 'both')
        await send(createElement('presence', { type: 'probe', from: `${account}@${ctx.domain}`, to: jid }))
    }

    ctx.iq({ type: 'get', name: 'blocklist', xmlns: NS_BLOCKING, on: ['account'] }, async (req) => {
      const session = ownSession(req, WHY)
      session.set(INTERESTED, true)
      return itemsElement('blocklist', [...(await blocklist(session.account))].sort())
    })

    ctx.iq({ type: 'set', name: 'block', xmlns: NS_BLOCKING, on: ['account'] }, async (req) => {
      const account = ownSession(req, WHY).account
      const jids = itemJids(req.payload)
      if (jids.length === 0) throw new XMPPError('bad-request', 'block at least one JID')
      const set = await blocklist(account)
      const added = jids.filter((jid) => !set.has(jid))
      if (set.size + added.length > MAX_BLOCKED)
        throw new XMPPError('resource-constraint', `at most ${MAX_BLOCKED} blocked JIDs`)
      // Presence goes out before the block is in place, or the block would swallow it.
      for (const jid of added) await cutPresence(account, jid)
      for (const jid of added) {
        await table.put(`${account}/${jid}`, true)
        set.add(jid)
      }
      push(account, itemsElement('block', jids))
      return undefined
    })

    ctx.iq({ type: 'set', name: 'unblock', xmlns: NS_BLOCKING, on: ['account'] }, async (req) => {
      const account = ownSession(req, WHY).account
      const set = await blocklist(account)
      // §3.4: an unblock without items empties the list.
      const jids = req.payload.getChildren('item').length === 0 ? [...set] : itemJids(req.payload)
      for (const jid of jids) {
        await table.del(`${account}/${jid}`)
        set.delete(jid)
        await restorePresence(account, jid)
      }
      push(account, itemsElement('unblock', req.payload.getChildren('item').length === 0 ? [] : jids))
      return undefined
    })

    ctx.hook(
      'outbound',
      async (event) => {
        if (event.to.equals(event.from.bare) || !(await isBlocking(event.session.account, event.to)))
          return undefined
        if (event.kind === 'presence') return 'handled'
        throw new XMPPError('not-acceptable', `you have blocked ${event.to.bareString}`, {
          appCondition: createElement('blocked', { xmlns: NS_BLOCKING_ERRORS }),
        })
      },
      { priority: 100 },
    )

    ctx.hook(
      'inbound',
      async (event) => {
        if (await isBlocking(event.account, event.from)) {
          if (event.kind === 'presence') return 'handled'
          throw new XMPPError('service-unavailable')
        }
        // What the account itself sends to someone it blocked without a client's say (presence broadcasts,
        // probe answers, PEP events) never arrives; the client's own stanzas were refused in 'outbound'.
        const fromLocal = event.from.local !== '' && event.from.domain === ctx.domain
        if (fromLocal && (await isBlocking(event.from.local, event.to))) return 'handled'
        return undefined
      },
      { priority: 100 },
    )
  },
}

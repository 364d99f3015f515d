import { createElement, type Element, parse } from 'ltx'
import { z } from 'zod'
import type { XmppConfig } from '../../config/sections/xmpp.js'
import { XMPPError } from '../errors.js'
import { JID } from '../jid.js'
import type { ModuleContext, XmppModule } from '../module.js'
import {
  type ArchivePrefs,
  archivePrefs,
  DEFAULT_PREFS,
  parsePrefs,
  prefsElement,
  shouldArchive,
} from './archive-prefs.js'
import { dataForm, formFields, formType, NS_DATA } from './data-form.js'
import { forwarded } from './forward.js'
import { hasHint } from './hints.js'
import { ownSession } from './own-session.js'

const WHY = 'an archive is queried by its own account only'

export const NS_MAM = 'urn:xmpp:mam:2'
export const NS_SID = 'urn:xmpp:sid:0'
const NS_RSM = 'http://jabber.org/protocol/rsm'

const DAY_MS = 86_400_000
/** Old messages of an account are purged at most this often, when it archives something. */
const PURGE_INTERVAL_MS = 3_600_000

const archived = z.strictObject({
  /** The other party's JID as seen on the stanza (full when it had a resource). */
  with: z.string(),
  stamp: z.number().int(),
  stanza: z.string(),
})
type Archived = z.infer<typeof archived>

/**
 * Archive ids sort like time: microseconds since the epoch in base 36, kept
 * strictly increasing within a process, so ids are keys, pages are key ranges.
 */
const ID_LENGTH = 11
export const idAt = (micros: number) => Math.max(0, micros).toString(36).padStart(ID_LENGTH, '0')

/** What is worth keeping (XEP-0313 §5.1.1): chats and normal messages with content, unless asked not to (XEP-0334). */
function archivable(stanza: Element): boolean {
  const type = stanza.attrs.type ?? 'normal'
  if (type !== 'chat' && type !== 'normal') return false
  if (hasHint(stanza, 'no-store') || hasHint(stanza, 'no-permanent-store')) return false
  // <store/> (XEP-0334 §4.4) asks to keep a message that has no body, e.g. a receipt.
  return (
    stanza.getChild('body') !== undefined ||
    stanza.getChild('encrypted') !== undefined ||
    hasHint(stanza, 'store')
  )
}

function parseStamp(value: string | undefined, field: string): number | undefined {
  if (value === undefined) return undefined
  const ms = Date.parse(value)
  if (!/^\d{4}-\d\d-\d\dT/.test(value) || Number.isNaN(ms))
    throw new XMPPError('bad-request', `${field} is not an XEP-0082 date-time`)
  return ms
}

interface Query {
  with: JID | undefined
  start: number | undefined
  end: number | undefined
  max: number
  after: string | undefined
  /** An id, '' for "the last page" (XEP-0059 §2.5), undefined when paging forward. */
  before: string | undefined
}

function parseQuery(payload: Element, config: XmppConfig['archive']): Query {
  const form = payload.getChild('x', NS_DATA)
  const fields = form ? formFields(form) : new Map<string, string[]>()
  if (form && formType(form) !== NS_MAM) throw new XMPPError('bad-request', `FORM_TYPE must be ${NS_MAM}`)
  for (const name of fields.keys()) {
    if (!['FORM_TYPE', 'with', 'start', 'end'].includes(name))
      throw new XMPPError('bad-request', `the field ${name} is not supported`)
  }
  const set = payload.getChild('set', NS_RSM)
  const maxText = set?.getChildText('max')
  const max = maxText === null || maxText === undefined ? config.maxPageSize : Number(maxText)
  if (!Number.isInteger(max) || max < 0) throw new XMPPError('bad-request', 'max is a non-negative integer')
  const withText = fields.get('with')?.[0]
  return {
    with: withText === undefined ? undefined : JID.parse(withText),
    start: parseStamp(fields.get('start')?.[0], 'start'),
    end: parseStamp(fields.get('end')?.[0], 'end'),
    max: Math.min(max, config.maxPageSize),
    after: set?.getChildText('after') ?? undefined,
    before: set?.getChild('before') ? (set.getChildText('before') ?? '') : undefined,
  }
}

const matchesWith = (record: Archived, filter: JID | undefined) => {
  if (!filter) return true
  const jid = JID.parse(record.with)
  return filter.isBare ? jid.bare.equals(filter) : jid.equals(filter)
}

/**
 * XEP-0313 message archive management for each account's own history, kept
 * only in the local store: messages are archived as they are delivered to or
 * sent by the account, tagged with an XEP-0359 `<stanza-id/>`, and queried by
 * the account with `with`/`start`/`end` filters and XEP-0059 paging. Retention
 * and the off switch are the `[xmpp.archive]` config.
 */
export const archiveModule: XmppModule = {
  name: 'archive',
  setup(ctx) {
    const config = ctx.config.archive
    if (!config.enabled) return
    ctx.advertise({ accountFeatures: [NS_MAM, NS_SID] })
    archiveHooks(ctx, config)
  },
}

function archiveHooks(ctx: ModuleContext, config: XmppConfig['archive']): void {
  const messages = ctx.table('messages', archived)
  const lastPurge = new Map<string, number>()
  let lastMicros = 0
  const key = (account: string, id: string) => `${account}\u0000${id}`
  const oldestKept = () =>
    config.retentionDays === 0 ? idAt(0) : idAt((ctx.now() - config.retentionDays * DAY_MS) * 1000)

  async function purge(account: string): Promise<void> {
    const now = ctx.now()
    if (config.retentionDays === 0 || (lastPurge.get(account) ?? 0) > now - PURGE_INTERVAL_MS) return
    lastPurge.set(account, now)
    for await (const old of messages.keys({ gte: key(account, idAt(0)), lt: key(account, oldestKept()) }))
      await messages.del(old)
  }

  const prefsTable = ctx.table('prefs', archivePrefs)
  const prefsCache = new Map<string, ArchivePrefs>()
  async function prefsOf(account: string): Promise<ArchivePrefs> {
    let prefs = prefsCache.get(account)
    if (!prefs) {
      prefs = (await prefsTable.get(account)) ?? DEFAULT_PREFS
      prefsCache.set(account, prefs)
    }
    return prefs
  }

  /** Archives the message unless the account's preferences say otherwise; the new archive id, or undefined. */
  async function archive(account: string, withJid: JID, stanza: Element): Promise<string | undefined> {
    const inRoster = async () => (await ctx.roster.item(account, withJid.bare)) !== undefined
    if (!(await shouldArchive(await prefsOf(account), withJid, inRoster))) return undefined
    lastMicros = Math.max(lastMicros + 1, ctx.now() * 1000)
    const id = idAt(lastMicros)
    await messages.put(key(account, id), {
      with: withJid.toString(),
      stamp: ctx.now(),
      stanza: stanza.toString(),
    })
    await purge(account)
    return id
  }

  ctx.hook(
    'inbound',
    async (event) => {
      if (event.kind !== 'message') return undefined
      const by = `${event.account}@${ctx.domain}`
      // XEP-0359 §3.1: a stanza-id claiming to be ours but not set by us is removed.
      for (const sid of event.stanza.getChildren('stanza-id', NS_SID))
        if (sid.attrs.by === by) event.stanza.remove(sid)
      // A message between two resources of one account is archived once, as sent.
      if (!archivable(event.stanza) || event.origin?.account === event.account) return undefined
      const id = await archive(event.account, event.from, event.stanza)
      if (id !== undefined) event.stanza.cnode(createElement('stanza-id', { xmlns: NS_SID, id, by }))
      return undefined
    },
    { priority: 10 },
  )

  ctx.hook(
    'outbound',
    async (event) => {
      if (event.kind !== 'message' || !archivable(event.stanza)) return undefined
      await archive(event.session.account, event.to, event.stanza)
      return undefined
    },
    { priority: -50 },
  )

  ctx.iq({ type: 'get', name: 'prefs', xmlns: NS_MAM, on: ['account'] }, async (req) =>
    prefsElement(await prefsOf(ownSession(req, WHY).account)),
  )

  ctx.iq({ type: 'set', name: 'prefs', xmlns: NS_MAM, on: ['account'] }, async (req) => {
    const account = ownSession(req, WHY).account
    const prefs = parsePrefs(req.payload)
    await prefsTable.put(account, prefs)
    prefsCache.set(account, prefs)
    return prefsElement(prefs)
  })

  ctx.iq({ type: 'get', name: 'query', xmlns: NS_MAM, on: ['account'] }, (req) => {
    ownSession(req, WHY).account
    return createElement(
      'query',
      { xmlns: NS_MAM },
      dataForm('form', NS_MAM, [
        { var: 'with', type: 'jid-single' },
        { var: 'start', type: 'text-single' },
        { var: 'end', type: 'text-single' },
      ]),
    )
  })

  ctx.iq({ type: 'set', name: 'query', xmlns: NS_MAM, on: ['account'] }, async (req) => {
    const session = ownSession(req, WHY)
    const account = session.account
    const query = parseQuery(req.payload, config)
    for (const id of [query.after, query.before]) {
      if (id && !(await messages.has(key(account, id))))
        throw new XMPPError('item-not-found', `no archived message ${id}`)
    }
    const startId = query.start === undefined ? idAt(0) : idAt(query.start * 1000)
    // The later of the asked start and the retention limit (ids sort like time).
    const from = key(account, [startId, oldestKept()].sort().at(-1)!)
    const to = key(account, query.end === undefined ? '\u{10FFFF}' : idAt((query.end + 1) * 1000))
    const backward = query.before !== undefined
    const upper = query.before && key(account, query.before) < to ? key(account, query.before) : to
    const range =
      query.after === undefined
        ? { gte: from, lt: upper, reverse: backward }
        : { gt: key(account, query.after), lt: upper, reverse: backward }
    const page: [string, Archived][] = []
    let complete = true
    for await (const [k, record] of messages.entries(range)) {
      if (k < from || !matchesWith(record, query.with)) continue
      if (page.length === query.max) {
        complete = false
        break
      }
      page.push([k.slice(account.length + 1), record])
    }
    if (backward) page.reverse()
    const queryid = req.payload.attrs.queryid
    for (const [id, record] of page) {
      const original = parse(record.stanza)
      session.send(
        createElement(
          'message',
          { to: session.jid.toString(), from: session.jid.bareString },
          createElement(
            'result',
            { xmlns: NS_MAM, queryid, id },
            forwarded(original, { from: session.jid.bareString, at: record.stamp }),
          ),
        ),
      )
    }
    const first = page[0]?.[0]
    const last = page.at(-1)?.[0]
    return createElement(
      'fin',
      { xmlns: NS_MAM, complete: complete ? 'true' : undefined },
      createElement(
        'set',
        { xmlns: NS_RSM },
        first === undefined ? null : createElement('first', {}, first),
        last === undefined ? null : createElement('last', {}, last),
      ),
    )
  })
}

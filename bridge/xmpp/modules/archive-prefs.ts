import { createElement, type Element } from 'ltx'
import { z } from 'zod'
import { XMPPError } from '../errors.js'
import { JID } from '../jid.js'

const NS_MAM = 'urn:xmpp:mam:2'

/** JIDs listed under <always/> or <never/>; a bound on what one account keeps in memory. */
const MAX_LISTED = 1000

export const archivePrefs = z.strictObject({
  default: z.enum(['always', 'never', 'roster']),
  /** Bare JIDs whose messages are always archived, whatever the default. */
  always: z.array(z.string()),
  /** Bare JIDs whose messages are never archived; wins over `always`. */
  never: z.array(z.string()),
})
export type ArchivePrefs = z.infer<typeof archivePrefs>

export const DEFAULT_PREFS: ArchivePrefs = { default: 'always', always: [], never: [] }

/** XEP-0313 §6.1: whether a message with `other` is archived, given the account's prefs and roster. */
export function shouldArchive(
  prefs: ArchivePrefs,
  other: JID,
  inRoster: () => Promise<boolean>,
): Promise<boolean> {
  const bare = other.bareString
  if (prefs.never.includes(bare)) return Promise.resolve(false)
  if (prefs.always.includes(bare) || prefs.default === 'always') return Promise.resolve(true)
  return prefs.default === 'roster' ? inRoster() : Promise.resolve(false)
}

const jidList = (payload: Element, name: 'always' | 'never') =>
  (payload.getChild(name)?.getChildren('jid') ?? []).map((jid) => JID.parse(jid.getText()).bareString)

/** Reads a `<prefs/>` set request (XEP-0313 §6.1.2). */
export function parsePrefs(payload: Element): ArchivePrefs {
  const value = payload.attrs.default
  if (value !== 'always' && value !== 'never' && value !== 'roster')
    throw new XMPPError('bad-request', 'default is always, never or roster')
  const prefs = {
    default: value,
    always: jidList(payload, 'always'),
    never: jidList(payload, 'never'),
  } as const
  if (prefs.always.length + prefs.never.length > MAX_LISTED)
    throw new XMPPError('resource-constraint', `at most ${MAX_LISTED} JIDs in the archive preferences`)
  return { ...prefs, always: [...new Set(prefs.always)], never: [...new Set(prefs.never)] }
}

/** The `<prefs/>` element that answers a get or a set. */
export function prefsElement(prefs: ArchivePrefs): Element {
  const list = (name: string, jids: string[]) =>
    createElement(name, {}, ...jids.map((jid) => createElement('jid', {}, jid)))
  return createElement(
    'prefs',
    { xmlns: NS_MAM, default: prefs.default },
    list('always', prefs.always),
    list('never', prefs.never),
  )
}

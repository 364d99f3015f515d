import { createElement, type Element } from 'ltx'
import {
  CHAT_STATES,
  type ChatState,
  MARKERS,
  type MarkerType,
  type MessageFlag,
  type MessagePayload,
  type PresencePayload,
  type PresenceType,
  SHOWS,
  type Show,
} from '../wire/stanza-payload.js'

/**
 * The allow-list (docs/gateway.md): the only parts of a stanza that cross the
 * network, read from a client's stanza and written back into a fresh one.
 * Anything not named here — other namespaces, attributes such as xml:lang,
 * client ids, HTML, <x/> extensions, priority, avatars — is never read, so it
 * cannot leak. Receiving runs the same list over the decoded payload.
 */
export const NS = {
  client: 'jabber:client',
  receipts: 'urn:xmpp:receipts',
  chatStates: 'http://jabber.org/protocol/chatstates',
  markers: 'urn:xmpp:chat-markers:0',
  correction: 'urn:xmpp:message-correct:0',
  oob: 'jabber:x:oob',
  hints: 'urn:xmpp:hints',
  delay: 'urn:xmpp:delay',
} as const

/** Element names of the XEP-0334 hints we carry, in MESSAGE_FLAGS order. */
const HINTS: Partial<Record<MessageFlag, string>> = {
  noStore: 'no-store',
  noPermanentStore: 'no-permanent-store',
  store: 'store',
  noCopy: 'no-copy',
}

/** A message's allowed content with references still in the client's id form. */
export interface MessageContent
  extends Omit<MessagePayload, 'kind' | 'id' | 'receipt' | 'marker' | 'replace'> {
  receipt?: string
  marker?: { type: MarkerType; id: string }
  replace?: string
}

export type PresenceContent = Omit<PresencePayload, 'kind'>

/** Text of a direct child in namespace `ns` (the client namespace counts as none given), '' as absent. */
function childText(stanza: Element, name: string, ns?: string): string | undefined {
  const text = child(stanza, name, ns)?.getText()
  return text === undefined || text === '' ? undefined : text
}

function child(stanza: Element, name: string, ns?: string): Element | undefined {
  return stanza.getChildElements().find((c) => c.name === name && inNamespace(c, ns))
}

function inNamespace(el: Element, ns: string | undefined): boolean {
  const actual = el.getNS()
  if (ns === undefined) return actual === undefined || actual === NS.client
  return actual === ns
}

function idOf(el: Element | undefined): string | undefined {
  const id = el?.attrs.id
  return typeof id === 'string' && id !== '' ? id : undefined
}

/** The characters of `text` up to `max` (whole code points), for request and status texts. */
export function truncateChars(text: string, max: number): string {
  const chars = Array.from(text)
  return chars.length <= max ? text : chars.slice(0, max).join('')
}

function readFlags(stanza: Element): MessageFlag[] {
  const flags: MessageFlag[] = []
  if (child(stanza, 'request', NS.receipts)) flags.push('request')
  if (child(stanza, 'markable', NS.markers)) flags.push('markable')
  for (const [flag, name] of Object.entries(HINTS) as [MessageFlag, string][])
    if (child(stanza, name, NS.hints)) flags.push(flag)
  return flags
}

function readMarker(stanza: Element): MessageContent['marker'] {
  for (const type of MARKERS) {
    const id = idOf(child(stanza, type, NS.markers))
    if (id) return { type, id }
  }
  return undefined
}

/** The allowed content of a chat or normal message (other types are the gateway's to refuse). */
export function readMessage(stanza: Element): MessageContent {
  const content: MessageContent = { type: stanza.attrs.type === 'chat' ? 'chat' : 'normal' }
  const body = childText(stanza, 'body')
  if (body !== undefined) content.body = body
  const subject = childText(stanza, 'subject')
  if (subject !== undefined) content.subject = subject
  const thread = child(stanza, 'thread')
  const threadId = childText(stanza, 'thread')
  if (thread && threadId !== undefined) {
    const parent = thread.attrs.parent
    content.thread = typeof parent === 'string' && parent !== '' ? { id: threadId, parent } : { id: threadId }
  }
  const flags = readFlags(stanza)
  if (flags.length > 0) content.flags = flags
  const state = stanza
    .getChildElements()
    .find((c) => c.getNS() === NS.chatStates && (CHAT_STATES as readonly string[]).includes(c.name))
  if (state) content.chatState = state.name as ChatState
  const receipt = idOf(child(stanza, 'received', NS.receipts))
  if (receipt) content.receipt = receipt
  const marker = readMarker(stanza)
  if (marker) content.marker = marker
  const replace = idOf(child(stanza, 'replace', NS.correction))
  if (replace) content.replace = replace
  const oob = child(stanza, 'x', NS.oob)
  const url = oob && childText(oob, 'url', NS.oob)
  if (oob && url !== undefined) {
    const description = childText(oob, 'desc', NS.oob)
    content.oob = description === undefined ? { url } : { url, description }
  }
  return content
}

/** The fields that make a message worth sending (a bare request, flag or thread is not). */
type ContentFields = Partial<
  Record<'body' | 'subject' | 'oob' | 'receipt' | 'marker' | 'replace' | 'chatState', unknown>
>

/** Whether a message carries something for the other side. */
export function hasContent(m: ContentFields): boolean {
  return (
    m.body !== undefined ||
    m.subject !== undefined ||
    m.oob !== undefined ||
    m.receipt !== undefined ||
    m.marker !== undefined ||
    m.replace !== undefined ||
    m.chatState !== undefined
  )
}

/** Only a chat state: typing notifications are not worth persisting or retrying. */
export function isChatStateOnly(m: ContentFields): boolean {
  return m.chatState !== undefined && !hasContent({ ...m, chatState: undefined })
}

/** The allowed content of a presence; `statusChars` caps the status (the request text for `subscribe`). */
export function readPresence(stanza: Element, statusChars: number): PresenceContent | undefined {
  const type = (stanza.attrs.type ?? 'available') as PresenceType
  if (
    !['available', 'unavailable', 'subscribe', 'subscribed', 'unsubscribe', 'unsubscribed', 'probe'].includes(
      type,
    )
  )
    return undefined
  const content: PresenceContent = { type }
  const show = childText(stanza, 'show')
  if (type === 'available' && show && (SHOWS as readonly string[]).includes(show)) content.show = show as Show
  const status = childText(stanza, 'status')
  const carriesStatus = type === 'available' || type === 'unavailable' || type === 'subscribe'
  if (carriesStatus && status !== undefined && statusChars > 0)
    content.status = truncateChars(status, statusChars)
  return content
}

/** Message references rendered back into the receiving client's id form. */
export interface RenderedRefs {
  id: string
  receipt?: string
  marker?: string
  replace?: string
}

/** A fresh stanza from a received message payload; only allow-listed elements are written. */
export function buildMessage(m: MessagePayload, refs: RenderedRefs, from: string, to: string): Element {
  const stanza = createElement('message', { from, to, type: m.type, id: refs.id })
  if (m.body !== undefined) stanza.c('body').t(m.body)
  if (m.subject !== undefined) stanza.c('subject').t(m.subject)
  if (m.thread) stanza.c('thread', m.thread.parent ? { parent: m.thread.parent } : {}).t(m.thread.id)
  const flags = new Set(m.flags ?? [])
  if (flags.has('request')) stanza.c('request', { xmlns: NS.receipts })
  if (flags.has('markable')) stanza.c('markable', { xmlns: NS.markers })
  for (const [flag, name] of Object.entries(HINTS) as [MessageFlag, string][])
    if (flags.has(flag)) stanza.c(name, { xmlns: NS.hints })
  if (m.chatState) stanza.c(m.chatState, { xmlns: NS.chatStates })
  if (refs.receipt) stanza.c('received', { xmlns: NS.receipts, id: refs.receipt })
  if (m.marker && refs.marker) stanza.c(m.marker.type, { xmlns: NS.markers, id: refs.marker })
  if (refs.replace) stanza.c('replace', { xmlns: NS.correction, id: refs.replace })
  if (m.oob) {
    const x = stanza.c('x', { xmlns: NS.oob })
    x.c('url').t(m.oob.url)
    if (m.oob.description !== undefined) x.c('desc').t(m.oob.description)
  }
  return stanza
}

export function buildPresence(p: PresencePayload, from: string, to: string): Element {
  const stanza = createElement('presence', p.type === 'available' ? { from, to } : { from, to, type: p.type })
  if (p.show) stanza.c('show').t(p.show)
  if (p.status !== undefined) stanza.c('status').t(p.status)
  return stanza
}

/** XEP-0203: when the sender sent a message shown late. */
export function delayElement(from: string, stamp: number): Element {
  return createElement('delay', { xmlns: NS.delay, from, stamp: new Date(stamp).toISOString() })
}

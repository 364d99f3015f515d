import { clone, createElement, type Element } from 'ltx'
import { XMPPError } from './errors.js'
import { NS } from './namespaces.js'

export type StanzaKind = 'message' | 'presence' | 'iq'

export function stanzaKind(el: Element): StanzaKind | undefined {
  return el.name === 'message' || el.name === 'presence' || el.name === 'iq' ? el.name : undefined
}

/** The `<error/>` child of RFC 6120 §8.3.2. */
function errorElement(err: XMPPError): Element {
  return createElement(
    'error',
    { type: err.type },
    createElement(err.condition, { xmlns: NS.stanzas }),
    err.text ? createElement('text', { xmlns: NS.stanzas, 'xml:lang': 'en' }, err.text) : null,
    err.appCondition ? clone(err.appCondition) : null,
  )
}

/** The error reply to `stanza` (RFC 6120 §8.3.1): addresses swapped, same id and kind. */
export function errorReply(stanza: Element, err: XMPPError): Element {
  return createElement(
    stanza.name,
    { type: 'error', id: stanza.attrs.id, from: stanza.attrs.to, to: stanza.attrs.from },
    errorElement(err),
  )
}

/** Error stanzas are never answered with errors (RFC 6120 §8.3.1), nor are IQ results. */
export function mayBounce(stanza: Element): boolean {
  const type = stanza.attrs.type
  return type !== 'error' && !(stanza.name === 'iq' && type === 'result')
}

/** XEP-0203: when the server first received a stanza it delivers late. */
export function delayElement(from: string, stamp: number): Element {
  return createElement('delay', { xmlns: NS.delay, from, stamp: new Date(stamp).toISOString() })
}

/**
 * The reply to an IQ get/set (RFC 6120 §8.2.3) from `from` to `to`: a result
 * with what `answer` returns, or the error it throws as an XMPPError.
 */
export async function iqReply(
  stanza: Element,
  from: string,
  to: string,
  answer: () => Promise<Element | undefined>,
): Promise<Element> {
  try {
    const payload = await answer()
    return createElement('iq', { type: 'result', id: stanza.attrs.id, from: to, to: from }, payload ?? null)
  } catch (err) {
    if (!(err instanceof XMPPError)) throw err
    const reply = errorReply(stanza, err)
    reply.attrs.from = to
    return reply
  }
}

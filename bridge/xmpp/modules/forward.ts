import { createElement, type Element } from 'ltx'
import { delayElement } from '../stanza.js'

export const NS_FORWARD = 'urn:xmpp:forward:0'

/** XEP-0297: `<forwarded/>` around a stanza, with the XEP-0203 delay of when it was first seen, if known. */
export function forwarded(stanza: Element, stamp?: { from: string; at: number }): Element {
  if (stanza.attrs.xmlns === undefined) stanza.attrs.xmlns = 'jabber:client'
  return createElement(
    'forwarded',
    { xmlns: NS_FORWARD },
    stamp ? delayElement(stamp.from, stamp.at) : null,
    stanza,
  )
}

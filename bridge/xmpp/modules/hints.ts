import type { Element } from 'ltx'

const NS_HINTS = 'urn:xmpp:hints'

/** XEP-0334 message processing hints: does `stanza` carry `<name xmlns='urn:xmpp:hints'/>`? */
export function hasHint(
  stanza: Element,
  name: 'no-copy' | 'no-store' | 'no-permanent-store' | 'store',
): boolean {
  return stanza.getChild(name, NS_HINTS) !== undefined
}

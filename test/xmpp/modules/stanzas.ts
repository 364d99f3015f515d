import { type Element, parse } from 'ltx'
import type { TestClient } from '../client.js'

/** Parses XML written in a test, dropping the whitespace between elements that only serves to indent it. */
export function stanza(text: string): Element {
  return strip(parse(text.trim()))
}

/** `xml\`<iq …/>\`` reads as the stanza it builds. */
export function xml(strings: TemplateStringsArray, ...values: unknown[]): Element {
  return stanza(String.raw({ raw: strings }, ...values))
}

function strip(el: Element): Element {
  el.children = el.children.filter((child) => typeof child !== 'string' || child.trim() !== '')
  for (const child of el.getChildElements()) strip(child)
  return el
}

/**
 * A canonical text of a stanza for exact comparisons: attributes sorted, the
 * jabber:client namespace (implied by the stream) left out, whitespace-only text dropped.
 */
export function canonical(el: Element | string): string {
  const element = typeof el === 'string' ? stanza(el) : el
  const attrs = Object.entries(element.attrs)
    .filter(([name, value]) => value !== undefined && !(name === 'xmlns' && value === 'jabber:client'))
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([name, value]) => ` ${name}="${escapeText(value ?? '')}"`)
    .join('')
  const children = element.children
    .map((child) =>
      typeof child === 'string' ? (child.trim() === '' ? '' : escapeText(child)) : canonical(child),
    )
    .join('')
  return children === ''
    ? `<${element.name}${attrs}/>`
    : `<${element.name}${attrs}>${children}</${element.name}>`
}

function escapeText(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
}

/** Sends an IQ and resolves with the reply (result or error) with the same id, as it arrived. */
export async function iq(client: TestClient, request: Element, timeoutMs?: number): Promise<Element> {
  const id = request.attrs.id
  if (!id) throw new Error('give the IQ an id')
  await client.xmpp.send(request)
  return client.next(
    (el) => el.name === 'iq' && el.attrs.id === id && el.attrs.type !== 'get' && el.attrs.type !== 'set',
    timeoutMs,
  )
}

/** Asserts-friendly: the canonical text of the reply to `request`. */
export async function exchange(client: TestClient, request: Element): Promise<string> {
  return canonical(await iq(client, request))
}

/** Nothing matching arrives within `ms` (for "was not delivered" assertions). */
export async function nothing(
  client: TestClient,
  match: (el: Element) => boolean,
  ms = 300,
): Promise<boolean> {
  await new Promise((resolve) => setTimeout(resolve, ms))
  return !client.stanzas.some(match)
}

interface IqCallee {
  get(xmlns: string, name: string, handler: (ctx: { stanza: Element }) => Element): void
}

/**
 * Makes the client answer the server's disco#info requests (XEP-0115 §6.2) with
 * `query`, as a real client does; resolves each time it was asked, with the request.
 */
export function answerDiscoInfo(client: TestClient, query: Element): Element[] {
  const asked: Element[] = []
  const callee = (client.xmpp as unknown as { iqCallee: IqCallee }).iqCallee
  callee.get('http://jabber.org/protocol/disco#info', 'query', ({ stanza: request }) => {
    asked.push(request)
    // @xmpp/client only sends elements of its own class (a subclass of ltx's): build the answer as one.
    const OwnElement = request.constructor as new (
      name: string,
      attrs: Record<string, string | undefined>,
    ) => Element
    const answer = new OwnElement('query', { ...query.attrs, node: request.getChild('query')?.attrs.node })
    answer.children = query.children
    return answer
  })
  return asked
}

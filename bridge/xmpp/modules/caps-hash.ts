import { createHash } from 'node:crypto'
import type { Element } from 'ltx'
import { NS_DATA } from './data-form.js'

/** The node of this server's XEP-0115 capabilities: it names the software, not a place. */
export const CAPS_NODE = 'urn:paranoim:bridge'

/** Byte-wise "i;octet" order (RFC 4790 §9.3), which XEP-0115 §5.1 sorts by; not locale order. */
function octetCompare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b))
}

/** Sorts by the key parts in turn (XEP-0115 §5.1 orders identities by category, then type, lang, name). */
function sortedUnique<T>(items: T[], key: (item: T) => string[], what: string): T[] {
  const compare = (a: T, b: T) => {
    const [ka, kb] = [key(a), key(b)]
    for (let i = 0; i < ka.length; i++) {
      const c = octetCompare(ka[i] ?? '', kb[i] ?? '')
      if (c !== 0) return c
    }
    return 0
  }
  const sorted = [...items].sort(compare)
  for (let i = 1; i < sorted.length; i++) {
    // XEP-0115 §5.4 step 3: a disco#info with duplicates is not a valid caps answer.
    if (compare(sorted[i]!, sorted[i - 1]!) === 0)
      throw new Error(`duplicate ${what} ${key(sorted[i]!).join('/')}`)
  }
  return sorted
}

const values = (field: Element) => field.getChildren('value').map((v) => v.getText())
const list = (items: string[]) => items.map((item) => `${item}<`).join('')

function formString(form: Element): { formType: string; text: string } {
  const fields = form.getChildren('field').filter((f) => f.attrs.var !== undefined)
  const formType = fields.find((f) => f.attrs.var === 'FORM_TYPE')
  if (!formType) throw new Error('an extended disco form without FORM_TYPE')
  const others = sortedUnique(
    fields.filter((f) => f !== formType),
    (f) => [f.attrs.var ?? ''],
    'form field',
  )
  const text =
    list(values(formType)) +
    others.map((f) => list([f.attrs.var ?? '', ...values(f).sort(octetCompare)])).join('')
  return { formType: values(formType)[0] ?? '', text }
}

/**
 * The XEP-0115 §5.1 verification string of a disco#info `<query/>`
 * (identities, features, XEP-0128 extension forms), hashed with SHA-1 and
 * base64-encoded (§5.1 step 8). Throws on the duplicates §5.4 forbids.
 */
export function capsHash(query: Element): string {
  const identities = sortedUnique(
    query.getChildren('identity'),
    (i) => [i.attrs.category ?? '', i.attrs.type ?? '', i.attrs['xml:lang'] ?? '', i.attrs.name ?? ''],
    'identity',
  )
  const features = sortedUnique(
    query.getChildren('feature').map((f) => f.attrs.var ?? ''),
    (f) => [f],
    'feature',
  )
  const forms = sortedUnique(
    query.getChildren('x', NS_DATA).map(formString),
    (f) => [f.formType],
    'FORM_TYPE',
  )
  const text =
    list(
      identities.map((i) => ['category', 'type', 'xml:lang', 'name'].map((a) => i.attrs[a] ?? '').join('/')),
    ) +
    list(features) +
    forms.map((f) => f.text).join('')
  return createHash('sha1').update(text, 'utf8').digest('base64')
}

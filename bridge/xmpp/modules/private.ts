import { createElement, parse } from 'ltx'
import { z } from 'zod'
import { XMPPError } from '../errors.js'
import type { IqRequest, XmppModule } from '../module.js'
import { ownSession } from './own-session.js'

const WHY = 'private storage belongs to the account itself'
/** Distinct fragments one account may store (each at most a stanza's size). */
const MAX_FRAGMENTS = 100

export const NS_PRIVATE = 'jabber:iq:private'

/** XEP-0049 §3: these namespaces are not for private data. */
const RESERVED = new Set(['jabber:client', 'jabber:server', 'jabber:iq:private', 'vcard-temp'])

/** The child elements of a request, each with a namespace of its own (XEP-0049 §2). */
function fragments(req: IqRequest) {
  const children = req.payload.getChildElements()
  if (children.length === 0) throw new XMPPError('bad-request', 'name the element to store or get')
  return children.map((child) => {
    const xmlns = child.attrs.xmlns
    if (!xmlns || RESERVED.has(xmlns))
      throw new XMPPError('not-acceptable', `<${child.name}> needs a namespace of its own`)
    return { child, key: `${req.account}/{${xmlns}}${child.name}` }
  })
}

/** XEP-0049 private XML storage: per account, keyed by element name and namespace. */
export const privateModule: XmppModule = {
  name: 'private',
  features: [NS_PRIVATE],
  accountFeatures: [NS_PRIVATE],
  setup(ctx) {
    const fragmentsTable = ctx.table('fragments', z.string())

    ctx.iq({ type: 'get', name: 'query', xmlns: NS_PRIVATE, on: ['account'] }, async (req) => {
      ownSession(req, WHY)
      const found = await Promise.all(
        fragments(req).map(async ({ child, key }) => {
          const stored = await fragmentsTable.get(key)
          return stored ? parse(stored) : createElement(child.name, { xmlns: child.attrs.xmlns })
        }),
      )
      return createElement('query', { xmlns: NS_PRIVATE }, ...found)
    })

    ctx.iq({ type: 'set', name: 'query', xmlns: NS_PRIVATE, on: ['account'] }, async (req) => {
      const account = ownSession(req, WHY).account
      for (const { child, key } of fragments(req)) {
        if (
          !(await fragmentsTable.has(key)) &&
          (await fragmentsTable.count({ prefix: `${account}/` })) >= MAX_FRAGMENTS
        )
          throw new XMPPError('resource-constraint', `at most ${MAX_FRAGMENTS} fragments per account`)
        await fragmentsTable.put(key, child.toString())
      }
      return undefined
    })
  },
}

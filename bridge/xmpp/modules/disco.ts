import { createElement, type Element } from 'ltx'
import { XMPPError } from '../errors.js'
import type { DiscoIdentity, ModuleContext, XmppModule } from '../module.js'
import { CAPS_NODE, capsHash } from './caps-hash.js'

export const NS_DISCO_INFO = 'http://jabber.org/protocol/disco#info'
export const NS_DISCO_ITEMS = 'http://jabber.org/protocol/disco#items'

/** A disco#info `<query/>` (XEP-0030 §3.1) listing `info`, with `node` echoed when asked for one. */
export function discoInfoQuery(
  info: { identities: readonly DiscoIdentity[]; features: readonly string[] },
  node?: string,
): Element {
  return createElement(
    'query',
    { xmlns: NS_DISCO_INFO, node },
    ...info.identities.map((i) =>
      createElement('identity', { category: i.category, type: i.type, name: i.name }),
    ),
    ...info.features.map((feature) => createElement('feature', { var: feature })),
  )
}

/** The server's XEP-0115 verification string: the hash of exactly what its disco#info answers. */
export function serverCapsVer(ctx: ModuleContext): string {
  return capsHash(discoInfoQuery(ctx.disco('server')))
}

/**
 * XEP-0030: disco#info of the server and of each account's bare JID lists what
 * the loaded modules declare (ctx.disco), so nothing is advertised that does not
 * work. disco#items of the server lists the local services modules run (ctx.advertise items), of accounts nothing.
 */
export const discoModule: XmppModule = {
  name: 'disco',
  features: [NS_DISCO_INFO, NS_DISCO_ITEMS],
  accountFeatures: [NS_DISCO_INFO, NS_DISCO_ITEMS],
  identities: [{ category: 'server', type: 'im', name: 'ParanoIM' }],
  accountIdentities: [{ category: 'account', type: 'registered' }],
  setup(ctx) {
    for (const target of ['server', 'account'] as const) {
      ctx.iq({ type: 'get', name: 'query', xmlns: NS_DISCO_INFO, on: [target] }, (req) => {
        const node = req.payload.attrs.node
        // The only node answered is the server's caps node (XEP-0115 §6.2), which clients query to verify the hash.
        if (node !== undefined && !(target === 'server' && node === `${CAPS_NODE}#${serverCapsVer(ctx)}`))
          throw new XMPPError('item-not-found', `no node ${node}`)
        return discoInfoQuery(ctx.disco(target), node)
      })
    }
    for (const target of ['server', 'account'] as const) {
      ctx.iq({ type: 'get', name: 'query', xmlns: NS_DISCO_ITEMS, on: [target] }, (req) => {
        const node = req.payload.attrs.node
        if (node !== undefined) throw new XMPPError('item-not-found', `no node ${node}`)
        const items = target === 'server' ? ctx.discoItems() : []
        return createElement(
          'query',
          { xmlns: NS_DISCO_ITEMS },
          ...items.map((item) => createElement('item', { jid: item.jid, name: item.name })),
        )
      })
    }
  },
}

import { createElement, type Element } from 'ltx'
import { z } from 'zod'
import { type Session, SessionKey, type XmppModule } from '../module.js'
import { CAPS_NODE, capsHash } from './caps-hash.js'
import { NS_DISCO_INFO, serverCapsVer } from './disco.js'

export const NS_CAPS = 'http://jabber.org/protocol/caps'

/** How long the server waits for a client's disco#info answer before treating its features as unknown. */
const DISCO_TIMEOUT_MS = 10_000
/** Verified caps kept in the store; a handful of client versions is the norm, so this only bounds abuse. */
const MAX_REMEMBERED = 1000

interface ClientCaps {
  ver: string
  features: Promise<ReadonlySet<string>>
}

const CLIENT_CAPS = new SessionKey<ClientCaps>('caps')

/**
 * The features a session's client announced through XEP-0115 caps in its
 * presence (e.g. `urn:xmpp:avatar:metadata+notify` for PEP), once resolved;
 * empty when it announced none or did not answer.
 */
export function clientFeatures(session: Session): Promise<ReadonlySet<string>> {
  return session.get(CLIENT_CAPS)?.features ?? Promise.resolve(new Set())
}

/**
 * XEP-0115 entity capabilities: the server's own caps in its stream features
 * (§6.3), and the caps of every client's presence, resolved once per hash by a
 * disco#info to the client, verified (§5.4) and remembered in the store, so
 * other modules (PEP +notify) know what each session wants.
 */
export const capsModule: XmppModule = {
  name: 'caps',
  features: [NS_CAPS],
  setup(ctx) {
    // Computed per stream, after every module has declared its features (some do so in their setup()).
    ctx.advertise({
      streamFeatures: () => [
        createElement('c', {
          xmlns: NS_CAPS,
          hash: 'sha-1',
          node: CAPS_NODE,
          ver: serverCapsVer(ctx),
        }),
      ],
    })
    const verified = ctx.table('verified', z.array(z.string()))

    async function resolve(session: Session, node: string, ver: string): Promise<ReadonlySet<string>> {
      const known = await verified.get(ver)
      if (known) return new Set(known)
      const query = createElement('query', { xmlns: NS_DISCO_INFO, node: `${node}#${ver}` })
      const result = await session.request(
        createElement('iq', { type: 'get', from: ctx.domain }, query),
        DISCO_TIMEOUT_MS,
      )
      const answer = result.getChild('query', NS_DISCO_INFO)
      if (!answer) return new Set()
      const features = answer.getChildren('feature').flatMap((f) => (f.attrs.var ? [f.attrs.var] : []))
      // Only a verified answer is shared with other sessions (XEP-0115 §5.4, against cache poisoning).
      if (hashOrUndefined(answer) !== ver)
        ctx.log.debug({ jid: session.jid.toString(), ver }, 'caps hash does not match the disco#info answer')
      else if ((await verified.count()) < MAX_REMEMBERED) await verified.put(ver, features)
      return new Set(features)
    }

    ctx.hook(
      'outbound',
      (event) => {
        if (event.kind !== 'presence' || event.stanza.attrs.type !== undefined) return undefined
        if (!event.to.equals(event.from.bare)) return undefined
        const c = event.stanza.getChild('c', NS_CAPS)
        const { node, ver, hash } = c?.attrs ?? {}
        if (!node || !ver || hash !== 'sha-1') return undefined
        if (event.session.get(CLIENT_CAPS)?.ver === ver) return undefined
        const features = resolve(event.session, node, ver).catch((err) => {
          ctx.log.debug({ err, jid: event.session.jid.toString() }, 'client caps not resolved')
          return new Set<string>()
        })
        event.session.set(CLIENT_CAPS, { ver, features })
        return undefined
      },
      { priority: 50 },
    )
  },
}

function hashOrUndefined(query: Element): string | undefined {
  try {
    return capsHash(query)
  } catch {
    return undefined
  }
}

import { clone, createElement, type Element } from 'ltx'
import { type Session, SessionKey, type XmppModule } from '../module.js'
import { forwarded } from './forward.js'
import { hasHint } from './hints.js'
import { ownSession } from './own-session.js'

export const NS_CARBONS = 'urn:xmpp:carbons:2'
const NS_MUC_USER = 'http://jabber.org/protocol/muc#user'

const ENABLED = new SessionKey<boolean>('carbons')

/**
 * XEP-0280 §6 eligibility: chat messages, and normal messages with a body;
 * not errors, groupchat or headlines; not already a carbon (no loops); not
 * marked `<private/>` (§7) or `<no-copy/>` (XEP-0334 §4).
 */
function eligible(stanza: Element): boolean {
  const type = stanza.attrs.type ?? 'normal'
  if (type !== 'chat' && !(type === 'normal' && stanza.getChild('body'))) return false
  if (stanza.getChild('received', NS_CARBONS) || stanza.getChild('sent', NS_CARBONS)) return false
  if (stanza.getChild('private', NS_CARBONS) || hasHint(stanza, 'no-copy')) return false
  // §6.2: private messages from a MUC room go only to the resource that joined it.
  return !stanza.getChild('x', NS_MUC_USER)
}

function carbon(direction: 'sent' | 'received', stanza: Element, to: Session): Element {
  return createElement(
    'message',
    { from: to.jid.bareString, to: to.jid.toString(), type: stanza.attrs.type ?? 'normal' },
    createElement(direction, { xmlns: NS_CARBONS }, forwarded(clone(stanza))),
  )
}

/**
 * XEP-0280 message carbons: a resource that enabled them gets a `<received/>`
 * copy of the chat messages delivered to its other resources, and a `<sent/>`
 * copy of those its other resources send, each wrapped per XEP-0297.
 */
export const carbonsModule: XmppModule = {
  name: 'carbons',
  features: [NS_CARBONS],
  setup(ctx) {
    for (const name of ['enable', 'disable'] as const) {
      ctx.iq({ type: 'set', name, xmlns: NS_CARBONS, on: ['account'] }, (req) => {
        ownSession(req, 'carbons are set by the account itself').set(
          ENABLED,
          name === 'enable' ? true : undefined,
        )
        return undefined
      })
    }

    const copiesTo = (account: string, except: readonly Session[]) =>
      ctx.sessions.ofAccount(account).filter((s) => s.get(ENABLED) && !except.includes(s))

    // Low priority: the copies go out once blocking and the archive have had their say.
    ctx.hook(
      'inbound',
      (event) => {
        if (event.kind !== 'message' || !eligible(event.stanza)) return undefined
        // An own resource writing to another gets the <sent/> copy, not a <received/> one.
        const except =
          event.origin?.account === event.account ? [...event.targets, event.origin] : event.targets
        for (const session of copiesTo(event.account, except))
          session.send(carbon('received', event.stanza, session))
        return undefined
      },
      { priority: -100 },
    )
    ctx.hook(
      'outbound',
      (event) => {
        if (event.kind !== 'message' || !eligible(event.stanza)) return undefined
        for (const session of copiesTo(event.session.account, [event.session]))
          session.send(carbon('sent', event.stanza, session))
        return undefined
      },
      { priority: -100 },
    )
  },
}

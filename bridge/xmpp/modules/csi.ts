import { createElement, type Element } from 'ltx'
import { type Session, SessionKey, type XmppModule } from '../module.js'
import { NS_CARBONS } from './carbons.js'
import { NS_FORWARD } from './forward.js'
import { NS_PUBSUB_EVENT } from './pep.js'

export const NS_CSI = 'urn:xmpp:csi:0'
const NS_CHATSTATES = 'http://jabber.org/protocol/chatstates'

/** Held stanzas per inactive session; past it the queue is flushed, so an idle client costs bounded memory. */
const MAX_HELD = 200

/** Stanzas held back, presence keyed by sender so only the latest of each is kept (newer replaces older). */
const HELD = new SessionKey<Map<string, Element>>('csi-held')

/** The message inside a carbon, or the message itself. */
function innerMessage(stanza: Element): Element {
  const wrapper = stanza.getChild('received', NS_CARBONS) ?? stanza.getChild('sent', NS_CARBONS)
  return wrapper?.getChild('forwarded', NS_FORWARD)?.getChild('message') ?? stanza
}

/**
 * What an inactive client can do without until it is active again: presence
 * updates (not subscription requests), and messages that only carry chat states
 * or PEP events. Messages with a body, IQs and errors always go at once.
 */
function unimportant(stanza: Element): boolean {
  const type = stanza.attrs.type
  if (stanza.name === 'presence') return type === undefined || type === 'unavailable'
  if (stanza.name !== 'message' || type === 'error') return false
  const message = innerMessage(stanza)
  if (message.getChild('body')) return false
  const payloads = message.getChildElements()
  return (
    payloads.length > 0 &&
    payloads.every(
      (el) => el.getNS() === NS_CHATSTATES || el.getNS() === NS_PUBSUB_EVENT || el.name === 'thread',
    )
  )
}

function flush(session: Session): void {
  const held = session.get(HELD)
  if (!held) return
  session.set(HELD, undefined)
  for (const stanza of held.values()) session.write(stanza)
}

/**
 * XEP-0352 client state indication: while a client says it is inactive,
 * unimportant stanzas are held back (the latest presence per contact) and
 * flushed, in order, before the next important stanza or on `<active/>`.
 */
export const csiModule: XmppModule = {
  name: 'csi',
  streamFeatures: () => [createElement('csi', { xmlns: NS_CSI })],
  setup(ctx) {
    ctx.nonza('inactive', NS_CSI, (session) => {
      session.csi = 'inactive'
    })
    ctx.nonza('active', NS_CSI, (session) => {
      session.csi = 'active'
      flush(session)
    })
    let sequence = 0
    ctx.hook('outgoing', ({ stanza, session }) => {
      if (session.csi === 'active') return undefined
      if (!unimportant(stanza)) {
        flush(session)
        return undefined
      }
      const held = session.get(HELD) ?? new Map<string, Element>()
      // A newer presence from the same sender replaces the held one, and moves to the end.
      const key = stanza.name === 'presence' ? `presence ${stanza.attrs.from}` : `other ${sequence++}`
      held.delete(key)
      held.set(key, stanza)
      session.set(HELD, held)
      if (held.size > MAX_HELD) flush(session)
      return 'handled'
    })
  },
}

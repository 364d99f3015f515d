import { randomUUID } from 'node:crypto'
import { clone, createElement, type Element } from 'ltx'
import { XMPPError } from '../../errors.js'
import type { JID } from '../../jid.js'
import type { MucService } from './service.js'
import { NS_PING } from './xml.js'

/** IQs waiting for an occupant's answer; beyond it, resource-constraint. */
const MAX_PENDING = 1000
/** An answer later than this is dropped (the asker's client has timed out long before). */
const ANSWER_TIMEOUT_MS = 60_000

interface Pending {
  /** The asker's full JID and its IQ id. */
  asker: string
  id: string
  /** The session asked, and the occupant JID it answers as. */
  asked: string
  occupantJid: string
  timer: NodeJS.Timeout
}

/**
 * IQs to occupant JIDs (XEP-0045 "IQ requests to an occupant"): a
 * get/set goes to one session of the occupant, from the asker's occupant JID
 * and under an id of the room's, so real JIDs stay hidden; the answer goes back
 * under the asker's id. vCard avatars and pings of occupants work this way.
 * XEP-0410: a ping to one's own occupant JID is answered by the room itself.
 */
export class IqRelay {
  private readonly pending = new Map<string, Pending>()

  constructor(private readonly muc: MucService) {}

  async iq(from: JID, to: JID, stanza: Element): Promise<void> {
    const type = stanza.attrs.type
    if (type === 'result' || type === 'error') return this.answer(from, stanza)
    const room = this.muc.room(to.local)
    const asker = room.occupantOfSession(from.toString())
    if (!asker) throw new XMPPError('not-acceptable', `you are not in ${room.jid}`)
    const target = room.occupants.get(to.resource)
    if (!target) throw new XMPPError('item-not-found', `nobody is called ${to.resource} in this room`)
    if (target === asker && stanza.getChild('ping', NS_PING)) {
      const result = createElement('iq', {
        type: 'result',
        id: stanza.attrs.id,
        from: to.toString(),
        to: from.toString(),
      })
      return this.muc.send(result)
    }
    if (target.account === undefined)
      throw new XMPPError('service-unavailable', 'IQs to occupants on the network are not relayed')
    if (this.pending.size >= MAX_PENDING) throw new XMPPError('resource-constraint', 'too many IQs in flight')
    const id = randomUUID()
    const asked = target.sessions.keys().next().value!
    const timer = setTimeout(() => this.pending.delete(id), ANSWER_TIMEOUT_MS)
    timer.unref()
    this.pending.set(id, {
      asker: from.toString(),
      id: stanza.attrs.id ?? '',
      asked,
      occupantJid: to.toString(),
      timer,
    })
    const forwarded = clone(stanza)
    forwarded.attrs = { ...forwarded.attrs, id, from: `${room.jid}/${asker.nick}`, to: asked }
    await this.muc.send(forwarded)
  }

  /** An occupant's answer: back to the asker, from the occupant JID it was asked at; anything else is dropped. */
  private async answer(from: JID, stanza: Element): Promise<void> {
    const entry = this.pending.get(stanza.attrs.id ?? '')
    if (!entry || entry.asked !== from.toString()) return
    this.pending.delete(stanza.attrs.id!)
    clearTimeout(entry.timer)
    const reply = clone(stanza)
    reply.attrs = { ...reply.attrs, id: entry.id, from: entry.occupantJid, to: entry.asker }
    await this.muc.send(reply)
  }
}

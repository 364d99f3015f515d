import type { Element } from 'ltx'
import type { Logger } from '../log.js'
import { XMPPError } from './errors.js'
import type { IqHandler, IqRequest, IqRoute, IqTarget } from './module.js'

function routeKey(type: string, target: IqTarget, name: string, xmlns: string): string {
  return `${type} ${target} {${xmlns}}${name}`
}

/**
 * IQ get/set handlers keyed by (type, addressee, payload name + namespace).
 * `answer` turns every outcome into a payload or an XMPPError, so a request is
 * never left unanswered (RFC 6120 §8.2.3).
 */
export class IqHandlers {
  private readonly handlers = new Map<string, IqHandler>()

  constructor(private readonly log: Logger) {}

  add(route: IqRoute, handler: IqHandler): void {
    for (const target of route.on ?? ['server']) {
      const key = routeKey(route.type, target, route.name, route.xmlns)
      if (this.handlers.has(key)) throw new Error(`two IQ handlers for ${key}`)
      this.handlers.set(key, handler)
    }
  }

  /** The payload of the result, or throws the XMPPError to send back. */
  async answer(request: Omit<IqRequest, 'payload'>): Promise<Element | undefined> {
    const { stanza } = request
    const type = stanza.attrs.type
    const children = stanza.getChildElements()
    if ((type !== 'get' && type !== 'set') || children.length !== 1) {
      throw new XMPPError(
        'bad-request',
        'an IQ get or set carries exactly one child element (RFC 6120 §8.2.3)',
      )
    }
    const payload = children[0]!
    const xmlns = payload.getNS() ?? ''
    const handler = this.handlers.get(routeKey(type, request.target, payload.getName(), xmlns))
    if (!handler) throw new XMPPError('service-unavailable')
    try {
      return await handler({ ...request, payload })
    } catch (err) {
      if (err instanceof XMPPError) throw err
      this.log.error({ err, iq: `${payload.getName()} ${xmlns}` }, 'IQ handler failed')
      throw new XMPPError('internal-server-error')
    }
  }
}

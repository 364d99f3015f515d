import { XMPPError } from '../errors.js'
import type { XmppModule } from '../module.js'

const NS_PING = 'urn:xmpp:ping'

/** XEP-0199: answers pings to the server and to an account's bare JID. */
export const pingModule: XmppModule = {
  name: 'ping',
  features: [NS_PING], // disco#info of the server lists it
  setup(ctx) {
    ctx.iq({ type: 'get', name: 'ping', xmlns: NS_PING, on: ['server', 'account'] }, (req) => {
      if (req.payload.children.length > 0) throw new XMPPError('bad-request', 'a ping is empty')
      return undefined // empty <iq type='result'/>; return an Element to send a payload
    })
  },
}

import type { Element } from 'ltx'
import { XMPPError } from './errors.js'
import type { JID } from './jid.js'

/**
 * Where stanzas for non-local JIDs go: other domains, and `<address>@<our
 * domain>` contacts on the network. The gateway implements it; `route` resolves
 * once the stanza is accepted (queued durably) or throws an XMPPError, which
 * the core sends back to the sender.
 */
export interface RemoteRouter {
  route(stanza: Element, to: JID): Promise<void>
}

/** Until a gateway is plugged in: every remote stanza is refused with a clear error, never dropped. */
export function unreachableRemotes(domain: string): RemoteRouter {
  return {
    async route(_stanza, to) {
      if (to.domain !== domain)
        throw new XMPPError('remote-server-not-found', `${to.domain} is not reachable`)
      throw new XMPPError(
        'recipient-unavailable',
        `${to.bareString} is not reachable yet (no network gateway)`,
      )
    },
  }
}

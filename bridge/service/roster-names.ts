import { isAddress } from '../crypto/address.js'
import type { JID } from '../xmpp/jid.js'
import type { RosterNames } from '../xmpp/roster.js'
import type { BindingsService } from './bindings.js'
import type { IdentityService } from './identities.js'

/**
 * The bindings as roster names: a remote contact's JID is `<address>@<xmpp
 * domain>`, a binding's owner is the identity's address and the XMPP account
 * is its nickname.
 */
export function bindingRosterNames(
  identities: IdentityService,
  bindings: BindingsService,
  domain: string,
): RosterNames {
  return {
    async nameFor(account: string, contact: JID) {
      if (contact.domain !== domain || !isAddress(contact.local)) return undefined
      const owner = (await identities.list()).find((i) => i.nickname === account)
      return owner && bindings.nameFor(owner.address, contact.local)
    },
    onChange(listener) {
      bindings.onChange((owner) => {
        identities.list().then(
          (all) => {
            const identity = all.find((i) => i.address === owner)
            if (identity) listener(identity.nickname)
          },
          () => {}, // the store is closing: no client to tell
        )
      })
    },
  }
}

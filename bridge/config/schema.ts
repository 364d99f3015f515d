import { z } from 'zod'
import { dhtSection } from './sections/dht.js'
import { gatewaySection } from './sections/gateway.js'
import { groupsSection } from './sections/groups.js'
import { identitySection } from './sections/identity.js'
import { logSection } from './sections/log.js'
import { mailboxSection } from './sections/mailbox.js'
import { messagingSection } from './sections/messaging.js'
import { netSection } from './sections/net.js'
import { onionSection } from './sections/onion.js'
import { storeSection } from './sections/store.js'
import { webuiSection } from './sections/webui.js'
import { xmppSection } from './sections/xmpp.js'

/**
 * The one configuration object. Each section lives in its own file under
 * sections/ and is documented, key by key, in config/default.toml; a test keeps
 * the two equal.
 */
export const configSchema = z.strictObject({
  log: logSection,
  store: storeSection,
  identity: identitySection,
  webui: webuiSection,
  net: netSection,
  dht: dhtSection,
  onion: onionSection,
  messaging: messagingSection,
  mailbox: mailboxSection,
  gateway: gatewaySection,
  groups: groupsSection,
  xmpp: xmppSection,
})

export type Config = z.infer<typeof configSchema>
/** What a file or a flag may give: any subset of the sections. */
export type ConfigInput = z.input<typeof configSchema>

export function defaultConfig(): Config {
  return configSchema.parse({})
}

import { loadConfig } from '../../bridge/config/load.js'
import { startTestnet, TESTNET_CONFIG, type Testnet } from '../../bridge/dht/testnet.js'
import { silentLogger } from '../../bridge/log.js'
import { onionRelays, relayMailboxes } from '../../bridge/onion/testnet-relays.js'
import { FAST } from '../dht/helpers.js'

/**
 * A testnet whose nodes are working onion relays holding mailboxes (each in
 * memory), with their directories filled (`overrides` as config layers): what bridges join in the end-to-end tests and benchmarks.
 * `bootstrap` is the "host:port" to give them as dht.bootstrap.
 */
export async function startRelayTestnet(
  nodes: number,
  overrides: Record<string, unknown> = {},
): Promise<{ testnet: Testnet; bootstrap: string }> {
  const config = loadConfig({ files: [TESTNET_CONFIG], overrides })
  const testnet = await startTestnet({
    nodes,
    dht: FAST,
    config,
    attach: onionRelays(config.onion, silentLogger, relayMailboxes(config)),
  })
  await testnet.discoverRelays()
  return { testnet, bootstrap: `${testnet.bootstrap.host}:${testnet.bootstrap.port}` }
}

import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig, mergeLayers } from '../../bridge/config/load.js'
import type { Config, ConfigInput } from '../../bridge/config/schema.js'
import { type Logger, silentLogger } from '../../bridge/log.js'
import { type Bridge, createBridge } from '../../bridge/service/bridge.js'
import { openStore, type Store } from '../../bridge/store/index.js'
import { startWebUi, type WebUi } from '../../webui/server/server.js'

export interface TestBridge {
  config: Config
  store: Store
  bridge: Bridge
  webui: WebUi
  /** The UI's origin, e.g. http://127.0.0.1:40123 */
  origin: string
  dataDir: string
  stop(): Promise<void>
}

export interface TestBridgeOptions {
  webui?: ConfigInput['webui']
  /** scrypt cost; kept low for speed. */
  kdfLogN?: number
  /** Config files under the test's settings (config/testnet.toml to join a testnet). */
  files?: string[]
  /** Settings over everything else, e.g. `net` and `dht` to join a testnet (the network is off by default). */
  overrides?: Record<string, unknown>
  log?: Logger
}

/**
 * A real bridge (LevelDB in a fresh temp dir, its XMPP server on ephemeral
 * ports) with its web UI on an ephemeral port. Its network node stays off
 * unless `overrides` turn it on: identities of this one bridge reach each
 * other without it.
 */
export async function startTestBridge(options: TestBridgeOptions = {}): Promise<TestBridge> {
  const log = options.log ?? silentLogger
  const dataDir = await mkdtemp(join(tmpdir(), 'paranoim-webui-'))
  const settings = {
    store: { dataDir },
    identity: { kdf: { logN: options.kdfLogN ?? 10 } },
    webui: { port: 0, ...options.webui },
    xmpp: { port: 0, tlsPort: 0 },
    net: { enabled: false },
    log: { level: 'silent' },
  }
  const config = loadConfig({
    files: options.files,
    overrides: mergeLayers(settings, options.overrides ?? {}),
  })
  const store = await openStore({ dataDir })
  const bridge = createBridge(config, { log, store })
  await bridge.start()
  const ui = await startWebUi({ config, bridge, log })
  return {
    config,
    store,
    bridge,
    webui: ui,
    origin: ui.url.replace(/\/$/, ''),
    dataDir,
    async stop() {
      await ui.stop()
      await bridge.stop()
      await store.close()
      await rm(dataDir, { recursive: true, force: true })
    },
  }
}

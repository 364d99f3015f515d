import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { validateConfig } from '../../bridge/config/load.js'
import type { Config, ConfigInput } from '../../bridge/config/schema.js'
import { type Logger, silentLogger } from '../../bridge/log.js'
import { type Bridge, createBridge } from '../../bridge/service/bridge.js'
import { type BridgeStatus, xmppStatus } from '../../bridge/service/status.js'
import { openStore, type Store } from '../../bridge/store/index.js'
import { createXmppServer, type XmppServer } from '../../bridge/xmpp/server.js'
import { startWebUi, type WebUi } from '../../webui/server/server.js'

export interface TestBridge {
  config: Config
  store: Store
  bridge: Bridge
  webui: WebUi
  /** Present when started with `xmpp: true`. */
  xmpp: XmppServer | null
  /** What the web UI is shown. */
  status(): BridgeStatus
  /** The UI's origin, e.g. http://127.0.0.1:40123 */
  origin: string
  dataDir: string
  stop(): Promise<void>
}

export interface TestBridgeOptions {
  webui?: ConfigInput['webui']
  /** scrypt cost; kept low for speed. */
  kdfLogN?: number
  /** Also run the real XMPP server on ephemeral ports. */
  xmpp?: boolean
  log?: Logger
}

/**
 * A real bridge (LevelDB in a fresh temp dir) with its web UI on an ephemeral
 * port. createBridge does not run the XMPP server yet, so with `xmpp: true`
 * this starts it beside the bridge and adds its part to the status, as the
 * composition root will.
 */
export async function startTestBridge(options: TestBridgeOptions = {}): Promise<TestBridge> {
  const log = options.log ?? silentLogger
  const dataDir = await mkdtemp(join(tmpdir(), 'paranoim-webui-'))
  const config = validateConfig({
    store: { dataDir },
    identity: { kdf: { logN: options.kdfLogN ?? 10 } },
    webui: { port: 0, ...options.webui },
    xmpp: { port: 0, tlsPort: 0 },
    log: { level: 'silent' },
  })
  const store = await openStore({ dataDir })
  const bridge = createBridge(config, { log, store })
  await bridge.start()
  const xmpp = options.xmpp ? createXmppServer({ config, store, log }) : null
  await xmpp?.start()
  const status = (): BridgeStatus => {
    const own = bridge.status()
    return xmpp && !own.xmpp ? { ...own, xmpp: xmppStatus(config.xmpp, xmpp) } : own
  }
  const ui = await startWebUi({ config, bridge: { ...bridge, status }, log })
  return {
    config,
    store,
    bridge,
    webui: ui,
    xmpp,
    status,
    origin: ui.url.replace(/\/$/, ''),
    dataDir,
    async stop() {
      await ui.stop()
      await xmpp?.stop()
      await bridge.stop()
      await store.close()
      await rm(dataDir, { recursive: true, force: true })
    },
  }
}

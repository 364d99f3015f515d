import type { Config } from '../config/schema.js'
import type { Logger } from '../log.js'
import type { Store } from '../store/index.js'
import { createXmppServer } from '../xmpp/server.js'
import { BindingsService } from './bindings.js'
import { IdentityService } from './identities.js'
import { bindingRosterNames } from './roster-names.js'
import { type BridgeStatus, xmppStatus } from './status.js'

export interface BridgeComponents {
  log: Logger
  /** Opened (and later closed) by the caller, who owns the data dir. */
  store: Store
}

/** The running daemon as the CLI and the web UI see it. */
export interface Bridge {
  readonly identities: IdentityService
  /** Petnames for addresses, per identity (web UI, roster names). */
  readonly bindings: BindingsService
  /** What runs and how busy it is, for the web UI's live pages; parts not running are null. */
  status(): BridgeStatus
  start(): Promise<void>
  stop(): Promise<void>
}

/**
 * Composition root: builds every service from the one config object and
 * starts/stops them in order. The XMPP server and the network node plug in
 * here as they arrive.
 */
export function createBridge(config: Config, { log, store }: BridgeComponents): Bridge {
  const bridgeLog = log.child({ c: 'bridge' })
  const identities = new IdentityService({ store, kdf: config.identity.kdf, log })
  const bindings = new BindingsService(store)
  const startedAt = Date.now()
  const rosterNames = bindingRosterNames(identities, bindings, config.xmpp.domain)
  const xmpp = createXmppServer({ config, store, log, rosterNames })
  let xmppRunning = false
  return {
    identities,
    bindings,
    status: () => ({ startedAt, xmpp: xmppRunning ? xmppStatus(config.xmpp, xmpp) : null, network: null }),
    async start() {
      await xmpp.start()
      xmppRunning = true
      const count = (await identities.list()).length
      bridgeLog.info({ dataDir: store.dataDir, identities: count }, 'bridge started')
    },
    async stop() {
      if (xmppRunning) await xmpp.stop()
      xmppRunning = false
      bridgeLog.info('bridge stopped')
    },
  }
}

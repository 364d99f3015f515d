import { createServer as createHttpServer, type Server } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo } from 'node:net'
import type { Config } from '../../bridge/config/schema.js'
import type { Logger } from '../../bridge/log.js'
import type { Bridge } from '../../bridge/service/bridge.js'
import { createWebUiApp } from './app.js'
import type { WebUiServices } from './context.js'
import { resolveWebUiOptions } from './options.js'
import { Unlocks } from './unlocks.js'

export interface WebUiInit {
  config: Config
  /** The running bridge: the web UI reaches data only through its services. */
  bridge: Pick<Bridge, 'identities' | 'bindings' | 'contacts' | 'unlock' | 'online' | 'status'>
  log: Logger
  clock?: () => number
}

export interface WebUi {
  /** e.g. http://127.0.0.1:7070/ */
  readonly url: string
  readonly port: number
  stop(): Promise<void>
}

/**
 * Starts the web UI (config section `webui`). Throws ConfigError for a bind
 * the config does not allow (non-loopback without TLS and admin password).
 */
export async function startWebUi(init: WebUiInit): Promise<WebUi> {
  const options = resolveWebUiOptions(init.config.webui)
  const log = init.log.child({ c: 'webui' })
  let port = options.port
  const { bridge } = init
  const services: WebUiServices = {
    identities: bridge.identities,
    bindings: bridge.bindings,
    contacts: bridge.contacts,
    unlock: (nickname, password) => bridge.unlock(nickname, password),
    online: (nickname) => bridge.online(nickname),
    status: () => bridge.status(),
  }
  const unlocks = new Unlocks(services.unlock, log)
  const app = await createWebUiApp({ ...init, services, unlocks, options, log, port: () => port })
  const server: Server = options.tls
    ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, app)
    : createHttpServer(app)
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port, options.host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  port = (server.address() as AddressInfo).port
  const host = options.host.includes(':') ? `[${options.host}]` : options.host
  const url = `${options.tls ? 'https' : 'http'}://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${port}/`
  log.info({ url }, 'web UI listening')
  return {
    url,
    port,
    async stop() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      server.closeAllConnections() // live status streams would otherwise hold close() open
      await closed
      await unlocks.settled() // the bridge stops next: no key may come online after that
      log.info('web UI stopped')
    },
  }
}

import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Config, defaultConfig } from '../../bridge/config/schema.js'
import { silentLogger } from '../../bridge/log.js'
import { IdentityService } from '../../bridge/service/identities.js'
import { openStore, type Store } from '../../bridge/store/index.js'
import type { XmppModule } from '../../bridge/xmpp/module.js'
import type { RemoteRouter } from '../../bridge/xmpp/remote.js'
import { createXmppServer, type XmppServer } from '../../bridge/xmpp/server.js'

export const DOMAIN = 'paranoim.localhost'
export const PASSWORD = 'correct horse battery staple'

export interface TestServer {
  server: XmppServer
  store: Store
  config: Config
  identities: IdentityService
  starttlsPort: number
  directTlsPort: number
  /** The served certificate (PEM), which test clients trust. */
  cert: string
  stop(): Promise<void>
}

type XmppLimits = Config['xmpp']['limits']

/**
 * A real server on ephemeral ports over a real LevelDB in a temp dir, with
 * accounts created through the identity service (cheap scrypt for speed).
 */
export async function startServer(
  options: {
    accounts?: string[]
    limits?: Partial<XmppLimits>
    xmpp?: Partial<Omit<Config['xmpp'], 'limits'>>
    modules?: XmppModule[]
    remote?: RemoteRouter
  } = {},
): Promise<TestServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'paranoim-xmpp-'))
  const base = defaultConfig()
  const config: Config = {
    ...base,
    store: { dataDir },
    identity: { kdf: { logN: 10, r: 8, p: 1 } },
    xmpp: {
      ...base.xmpp,
      port: 0,
      tlsPort: 0,
      ...options.xmpp,
      limits: { ...base.xmpp.limits, ...options.limits },
    },
  }
  const store = await openStore({ dataDir })
  const identities = new IdentityService({ store, kdf: config.identity.kdf, log: silentLogger })
  for (const nickname of options.accounts ?? ['alice', 'bob']) await identities.create(nickname, PASSWORD)
  const server = createXmppServer({
    config,
    store,
    log: silentLogger,
    modules: options.modules,
    routers: options.remote ? { remote: options.remote } : undefined,
  })
  try {
    await server.start()
  } catch (err) {
    await store.close()
    await rm(dataDir, { recursive: true, force: true })
    throw err
  }
  const cert = await readFile(join(dataDir, 'tls', `${config.xmpp.domain}.crt`), 'utf8')
  const ports = server.ports()
  return {
    server,
    store,
    config,
    identities,
    starttlsPort: ports.starttls,
    directTlsPort: ports.directTls ?? 0,
    cert,
    async stop() {
      await server.stop()
      await store.close()
      await rm(dataDir, { recursive: true, force: true })
    },
  }
}

import { randomBytes } from 'node:crypto'
import { createServer as createNetServer, type Server, type Socket } from 'node:net'
import { createSecureContext, createServer as createTlsServer } from 'node:tls'
import { createElement, type Element } from 'ltx'
import type { Config } from '../config/schema.js'
import { ParanoimError } from '../errors.js'
import type { Logger } from '../log.js'
import type { Store } from '../store/index.js'
import { Accounts } from './accounts.js'
import { loadCertificate } from './certificate.js'
import { Connection, type ConnectionHost } from './connection.js'
import { moduleContext } from './context.js'
import { XmppCore } from './core.js'
import { XMPPError } from './errors.js'
import { JID } from './jid.js'
import type { XmppEvents, XmppModule } from './module.js'
import { defaultModules } from './modules/index.js'
import { pingModule } from './modules/ping.js'
import { legacySessionModule } from './modules/session.js'
import { NS } from './namespaces.js'
import { PresenceService, type SubscriptionType } from './presence.js'
import { AuthFailureLimiter } from './rate-limit.js'
import { type RemoteRouter, unreachableRemotes } from './remote.js'
import { type RosterNames, Rosters, rosterModule } from './roster.js'
import type { RosterItem } from './roster-store.js'
import { SessionManager } from './session-manager.js'

export interface XmppServerOptions {
  config: Config
  /** Opened and closed by the caller. Its data dir keeps the generated certificate. */
  store: Store
  log: Logger
  routers?: { remote?: RemoteRouter }
  /** Extension modules (disco, carbons, MAM…), set up after the core's own; default: modules/index.ts. */
  modules?: readonly XmppModule[]
  /** Names for roster items from outside XMPP (the bridge's bindings); see roster.ts. */
  rosterNames?: RosterNames
  now?: () => number
}

export interface XmppServer {
  start(): Promise<void>
  stop(): Promise<void>
  /** The bound ports (tests listen on port 0); directTls is absent when disabled. */
  ports(): { starttls: number; directTls?: number }
  /** SHA-256 fingerprint of the served certificate ("AA:BB:…"), for the web UI; set by start(). */
  readonly fingerprint: string
  /** SHA-1 fingerprint ("AA:BB:…"): what Profanity and Pidgin show first when asking to trust it. */
  readonly fingerprintSha1: string
  /**
   * A stanza from the network gateway, as from another server: `from` is
   * `<address>@domain`, `to` a local account. Throws XMPPError when refused.
   */
  routeInbound(stanza: Element): Promise<void>
  /** `account`'s roster item for the bare JID `jid`, if any. */
  rosterItem(account: string, jid: string): Promise<RosterItem | undefined>
  rosterItems(account: string): Promise<RosterItem[]>
  /** Answers or sends a subscription as `account` would from a client (the web UI's approve/deny). */
  subscriptionAs(
    account: string,
    type: SubscriptionType,
    contact: string,
    requestText?: string,
  ): Promise<void>
  /** Observe server events (e.g. 'authenticated', to unlock an identity with ClientKey later). */
  on<K extends keyof XmppEvents>(name: K, listener: (event: XmppEvents[K]) => void): void
}

/** The configured address or port cannot be bound. */
export class XmppListenError extends ParanoimError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('XMPP_LISTEN', message, options)
  }
}

const streamManagementModule: XmppModule = {
  name: 'stream-management',
  streamFeatures: () => [createElement('sm', { xmlns: NS.sm })],
  setup() {},
}

/** The local C2S server: the listeners, the core, the built-in modules and the given extension modules. */
export function createXmppServer(options: XmppServerOptions): XmppServer {
  const { config, store } = options
  const xmppConfig = config.xmpp
  const log = options.log.child({ c: 'xmpp' })
  const now = options.now ?? Date.now
  const core = new XmppCore(
    xmppConfig,
    store,
    new Accounts(store),
    options.routers?.remote ?? unreachableRemotes(xmppConfig.domain),
    log,
    now,
  )
  const rosters = new Rosters(core, options.rosterNames)
  const presence = new PresenceService(core, rosters)
  core.presence = presence
  const sessions = new SessionManager(core, presence)
  const modules = [rosterModule(rosters, presence), streamManagementModule, legacySessionModule, pingModule]
  modules.push(...(options.modules ?? defaultModules))
  const listeners: Server[] = []
  const sockets = new Set<Socket>()
  const perIp = new Map<string, number>()
  let fingerprint = ''
  let fingerprintSha1 = ''

  function accept(socket: Socket, host: ConnectionHost, directTls: boolean): void {
    const ip = socket.remoteAddress ?? 'unknown'
    const count = perIp.get(ip) ?? 0
    if (count >= xmppConfig.limits.maxConnectionsPerIp) {
      socket.destroy()
      return
    }
    perIp.set(ip, count + 1)
    sockets.add(socket)
    socket.once('close', () => {
      sockets.delete(socket)
      const left = (perIp.get(ip) ?? 1) - 1
      if (left <= 0) perIp.delete(ip)
      else perIp.set(ip, left)
    })
    socket.on('error', () => {})
    // Stanzas are small and interactive: no Nagle delay (it costs 40 ms per exchange with delayed ACKs).
    socket.setNoDelay(true)
    new Connection(socket, host, directTls)
  }

  function listen(server: Server, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) =>
        reject(
          new XmppListenError(
            `cannot listen on ${xmppConfig.host}:${port} (${err.code ?? err.message}); is another XMPP server running? ` +
              'Change xmpp.port / xmpp.tlsPort or xmpp.host',
            { cause: err },
          ),
        ),
      )
      server.listen(port, xmppConfig.host, () => {
        server.removeAllListeners('error')
        server.on('error', (err) => log.error({ err }, 'listener error'))
        resolve()
      })
    })
  }

  return {
    async routeInbound(stanza) {
      const from = JID.parse(stanza.attrs.from ?? '')
      if (from.domain !== core.domain || from.local === '' || !from.isBare)
        throw new XMPPError('bad-request', 'a network stanza comes from <address>@domain')
      await core.route(stanza, undefined)
    },
    rosterItem: (account, jid) => core.roster.get(account, jid),
    rosterItems: (account) => core.roster.list(account),
    async subscriptionAs(account, type, contact, requestText) {
      const stanza = createElement('presence', { type, to: contact })
      if (requestText) stanza.c('status').t(requestText)
      await presence.outboundSubscription(account, type, JID.parse(contact).bare, stanza)
    },
    get fingerprint() {
      return fingerprint
    },
    get fingerprintSha1() {
      return fingerprintSha1
    },
    on(name, listener) {
      core.events.on(name, listener)
    },
    async start() {
      const tls = await loadCertificate({
        domain: xmppConfig.domain,
        certFile: xmppConfig.certFile,
        keyFile: xmppConfig.keyFile,
        dataDir: store.dataDir,
      })
      fingerprint = tls.fingerprint
      fingerprintSha1 = tls.fingerprintSha1
      core.modules.push(...modules)
      for (const module of modules) await module.setup(moduleContext(core, module))
      const host: ConnectionHost = {
        domain: core.domain,
        config: xmppConfig,
        log,
        accounts: core.accounts,
        authLimiter: new AuthFailureLimiter(xmppConfig.limits.authFailuresPerMinute, now),
        secureContext: createSecureContext({ cert: tls.cert, key: tls.key }),
        certificateDer: tls.der,
        decoySecret: randomBytes(32),
        now,
        streamFeatures: () => core.streamFeatures(),
        authenticated: (account, mechanism, clientKey, remoteAddress) =>
          core.emit('authenticated', { account, mechanism, clientKey, remoteAddress }),
        bind: (transport, account, resource, remoteAddress) =>
          sessions.bind(transport, account, resource, remoteAddress),
        handle: (session, element) => sessions.handle(session, element),
        resume: (transport, account, element) => sessions.resume(transport, account, element),
        disconnected: (session, transport, clean) => sessions.disconnected(session, transport, clean),
      }
      const plain = createNetServer((socket) => accept(socket, host, false))
      listeners.push(plain)
      await listen(plain, xmppConfig.port)
      if (xmppConfig.directTls) {
        const direct = createTlsServer({ cert: tls.cert, key: tls.key, ALPNProtocols: ['xmpp-client'] })
        direct.on('secureConnection', (socket) => accept(socket, host, true))
        direct.on('tlsClientError', (err) => log.debug({ err }, 'TLS handshake failed'))
        listeners.push(direct)
        await listen(direct, xmppConfig.tlsPort)
      }
      log.info(
        { ...this.ports(), domain: core.domain, fingerprint, fingerprintSha1 },
        'XMPP server listening',
      )
    },
    async stop() {
      for (const server of listeners) server.close()
      for (const session of [...core.sessions.all()]) session.close('system-shutdown')
      await sessions.endAll()
      for (const socket of sockets) socket.destroy()
      await Promise.all(listeners.map((server) => new Promise((resolve) => server.close(resolve))))
      listeners.length = 0
      log.info('XMPP server stopped')
    },
    ports() {
      const port = (server: Server | undefined) => {
        const address = server?.address()
        return typeof address === 'object' && address ? address.port : 0
      }
      const [plain, direct] = listeners
      return direct ? { starttls: port(plain), directTls: port(direct) } : { starttls: port(plain) }
    },
  }
}

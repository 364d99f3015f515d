import express, { type Express } from 'express'
import { rateLimit } from 'express-rate-limit'
import type { Config } from '../../bridge/config/schema.js'
import type { Logger } from '../../bridge/log.js'
import type { RouteContext, WebUiServices } from './context.js'
import { errorHandler, WebUiError } from './errors.js'
import { securityHeaders } from './headers.js'
import type { WebUiOptions } from './options.js'
import { pageRoutes } from './pages.js'
import { allowedHostHeaders, requestGuard } from './request-guard.js'
import { bindingRoutes } from './routes/bindings.js'
import { contactRoutes } from './routes/contacts.js'
import { identityRoutes } from './routes/identities.js'
import { sessionRoutes } from './routes/session.js'
import { statusRoutes } from './routes/status.js'
import { sessionMiddleware } from './session-middleware.js'
import { SessionStore } from './sessions.js'
import type { Unlocks } from './unlocks.js'

export interface WebUiAppInit {
  config: Config
  options: WebUiOptions
  services: WebUiServices
  unlocks: Unlocks
  log: Logger
  /** The port actually listened on (known only after listen, with port 0). */
  port: () => number
  clock?: () => number
}

/** The express app: security layers first, then the API, then pages and assets. */
export async function createWebUiApp(init: WebUiAppInit): Promise<Express> {
  const { options, log } = init
  const tls = options.tls !== null
  const sessions = new SessionStore({
    idleMs: options.idleMs,
    maxSessions: options.maxSessions,
    clock: init.clock,
  })
  const cookie = {
    get name() {
      return `paranoim_sid_${init.port()}`
    },
    secure: tls,
  }
  let hosts: Set<string> | undefined
  const allowedHosts = () => {
    hosts ??= allowedHostHeaders(options.allowedHosts, init.port(), tls)
    return hosts
  }
  const ctx: RouteContext = {
    services: init.services,
    config: init.config,
    options,
    sessions,
    unlocks: init.unlocks,
    cookie,
    passwordLimiter: rateLimit({
      windowMs: options.loginWindowMs,
      limit: options.loginMaxAttempts,
      skipSuccessfulRequests: true,
      standardHeaders: 'draft-8',
      legacyHeaders: false,
      handler: (_req, _res, next) =>
        next(
          new WebUiError(429, 'RATE_LIMITED', 'too many password attempts; wait a few minutes and try again'),
        ),
    }),
    log,
  }

  const app = express()
  app.disable('x-powered-by')
  app.set('etag', false)
  app.use(securityHeaders(tls))
  app.use(requestGuard(allowedHosts, tls ? 'https' : 'http'))
  app.use(express.json({ limit: options.maxBodyBytes }))
  app.use(sessionMiddleware(sessions, cookie))
  app.use('/api', (_req, res, next) => {
    res.set('cache-control', 'no-store')
    next()
  })
  app.use(sessionRoutes(ctx), identityRoutes(ctx), bindingRoutes(ctx), contactRoutes(ctx), statusRoutes(ctx))
  app.use('/api', () => {
    throw new WebUiError(404, 'NOT_FOUND', 'no such API endpoint')
  })
  app.use(await pageRoutes())
  app.use(() => {
    throw new WebUiError(404, 'NOT_FOUND', 'no such page')
  })
  app.use(errorHandler(log))
  return app
}

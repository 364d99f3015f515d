import type { RequestHandler, Response } from 'express'
import type { z } from 'zod'
import type { Config } from '../../bridge/config/schema.js'
import type { Logger } from '../../bridge/log.js'
import type { BindingsService } from '../../bridge/service/bindings.js'
import type { ContactsService } from '../../bridge/service/contacts.js'
import type { IdentityService, IdentitySummary } from '../../bridge/service/identities.js'
import type { BridgeStatus } from '../../bridge/service/status.js'
import { WebUiError } from './errors.js'
import type { WebUiOptions } from './options.js'
import { requireLogin, type SessionCookie } from './session-middleware.js'
import type { SessionStore } from './sessions.js'
import type { Unlocks } from './unlocks.js'

/** What the web UI is given by the bridge: services only, never LevelDB or sockets. */
export interface WebUiServices {
  identities: IdentityService
  bindings: BindingsService
  /** Network contacts and requests per identity. */
  contacts: Pick<ContactsService, 'list' | 'held' | 'request' | 'approve' | 'deny'>
  /** Opens an identity's key and brings it online (scrypt: about a second). */
  unlock(nickname: string, password: string): Promise<void>
  /** Unlocked, and its record is out on the network. */
  online(nickname: string): boolean
  status(): BridgeStatus
}

/** Everything a route file needs. */
export interface RouteContext {
  services: WebUiServices
  config: Config
  options: WebUiOptions
  sessions: SessionStore
  /** Identities unlocked at login or creation, and how far that got. */
  unlocks: Unlocks
  cookie: SessionCookie
  /** Rate limit for password guesses (login, admin password, backup unlock). */
  passwordLimiter: RequestHandler
  log: Logger
}

export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const parsed = schema.safeParse(body)
  if (parsed.success) return parsed.data
  const issue = parsed.error.issues[0]
  const where = issue?.path.length ? `${issue.path.join('.')}: ` : ''
  throw new WebUiError(400, 'BAD_REQUEST', `${where}${issue?.message ?? 'invalid request'}`)
}

/** The logged-in identity (401 when there is none, or when it was deleted meanwhile). */
export async function loggedInIdentity(ctx: RouteContext, res: Response): Promise<IdentitySummary> {
  const nickname = requireLogin(res)
  const identity = (await ctx.services.identities.list()).find((i) => i.nickname === nickname)
  if (!identity)
    throw new WebUiError(401, 'NOT_LOGGED_IN', `identity "${nickname}" no longer exists; log in again`)
  return identity
}

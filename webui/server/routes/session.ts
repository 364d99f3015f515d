import { Router } from 'express'
import { z } from 'zod'
import type { SessionInfo } from '../../shared/api-types.js'
import { parseBody, type RouteContext } from '../context.js'
import { WebUiError } from '../errors.js'
import { sessionOf, setSessionCookie } from '../session-middleware.js'
import { createRequirement } from './create-rule.js'

const loginBody = z.strictObject({ nickname: z.string().max(64), password: z.string().max(1024) })

/** GET /api/session hands every visitor a session and its CSRF token; login and logout rotate it. */
export function sessionRoutes(ctx: RouteContext): Router {
  const router = Router()

  router.get('/api/session', async (_req, res) => {
    let session = sessionOf(res)
    if (!session) {
      session = ctx.sessions.create(null)
      setSessionCookie(res, ctx.cookie, session)
    }
    const identities = await ctx.services.identities.list()
    const identity = identities.find((i) => i.nickname === session.nickname)
    const info: SessionInfo = {
      csrfToken: session.csrfToken,
      identity: identity ? { nickname: identity.nickname, address: identity.address } : null,
      firstRun: identities.length === 0,
      createRequires: createRequirement(ctx.options, identities.length === 0, Boolean(identity)),
      kdf: ctx.config.identity.kdf,
    }
    res.json(info)
  })

  router.post('/api/session/login', ctx.passwordLimiter, async (req, res) => {
    const { nickname, password } = parseBody(loginBody, req.body)
    if (!(await ctx.services.identities.checkPassword(nickname, password))) {
      ctx.log.info({ nickname }, 'web UI login refused')
      throw new WebUiError(401, 'LOGIN_FAILED', 'wrong nickname or password')
    }
    const old = sessionOf(res)
    if (old) ctx.sessions.destroy(old.id)
    setSessionCookie(res, ctx.cookie, ctx.sessions.create(nickname))
    ctx.log.info({ nickname }, 'web UI login')
    // Logging in brings the identity online; its scrypt runs after the answer (the pages show how far it got).
    ctx.unlocks.start(nickname, password)
    res.json({ nickname })
  })

  router.post('/api/session/logout', (_req, res) => {
    const old = sessionOf(res)
    if (old) ctx.sessions.destroy(old.id)
    setSessionCookie(res, ctx.cookie, ctx.sessions.create(null))
    res.json({})
  })

  return router
}

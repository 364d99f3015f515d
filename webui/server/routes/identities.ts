import { Router } from 'express'
import { z } from 'zod'
import type { AccountInfo, BackupInfo } from '../../shared/api-types.js'
import { loggedInIdentity, parseBody, type RouteContext } from '../context.js'
import { sessionOf, setSessionCookie } from '../session-middleware.js'
import { checkMayCreate } from './create-rule.js'

const createBody = z.strictObject({
  nickname: z.string().max(64),
  sealedKey: z.base64().max(1024),
  password: z.string().max(1024),
  adminPassword: z.string().max(1024).optional(),
})

const unlockBody = z.strictObject({ password: z.string().max(1024) })

/**
 * Identities: the browser sends a key it generated and sealed itself (create
 * and restore both end here), the account page, and the backup unlock.
 */
export function identityRoutes(ctx: RouteContext): Router {
  const router = Router()
  const { identities } = ctx.services

  router.post('/api/identities', ctx.passwordLimiter, async (req, res) => {
    const body = parseBody(createBody, req.body)
    const session = sessionOf(res)
    const firstRun = (await identities.list()).length === 0
    checkMayCreate(ctx.options, firstRun, Boolean(session?.nickname), body.adminPassword)
    // The password travels in this same-origin POST because it also becomes the
    // XMPP password (SCRAM keys are derived on the bridge); it is never stored or logged.
    const sealedKey = new Uint8Array(Buffer.from(body.sealedKey, 'base64'))
    const created = await identities.importSealedKey(body.nickname, sealedKey, body.password)
    if (session) ctx.sessions.destroy(session.id)
    setSessionCookie(res, ctx.cookie, ctx.sessions.create(created.nickname))
    ctx.unlocks.start(created.nickname, body.password) // like a login: the new identity comes online
    res.status(201).json(created)
  })

  router.get('/api/account', async (_req, res) => {
    const identity = await loggedInIdentity(ctx, res)
    const xmpp = ctx.services.status().xmpp
    const info: AccountInfo = {
      nickname: identity.nickname,
      address: identity.address,
      jid: xmpp ? `${identity.nickname}@${xmpp.domain}` : null,
      xmpp,
    }
    res.json(info)
  })

  /** The backup page asks for the password again: a left-open session alone does not hand out the key. */
  router.post('/api/backup', ctx.passwordLimiter, async (req, res) => {
    const { nickname, address } = await loggedInIdentity(ctx, res)
    const { password } = parseBody(unlockBody, req.body)
    const backup = await identities.exportBackup(nickname, password, 'file')
    if (backup.format !== 'file') throw new Error('exportBackup returned another format')
    const info: BackupInfo = { nickname, address, file: backup.contents }
    res.json(info)
  })

  return router
}

import { type Response, Router } from 'express'
import type { LiveUpdate } from '../../shared/api-types.js'
import { loggedInIdentity, type RouteContext } from '../context.js'
import { sessionOf } from '../session-middleware.js'

/** How often the live pages get a fresh status; cheap counters, so every 2 s is fine. */
const LIVE_INTERVAL_MS = 2000

/** The bridge's status for the network and contacts pages, as a snapshot and as a Server-Sent Events stream. */
export function statusRoutes(ctx: RouteContext): Router {
  const router = Router()

  const update = async (res: Response): Promise<LiveUpdate> => {
    const { nickname } = await loggedInIdentity(ctx, res)
    const contacts = ctx.services.contacts ? await ctx.services.contacts(nickname) : null
    return { status: ctx.services.status(), contacts }
  }

  router.get('/api/status', async (_req, res) => {
    res.json(await update(res))
  })

  router.get('/api/status/stream', async (_req, res) => {
    await loggedInIdentity(ctx, res)
    const sessionId = sessionOf(res)!.id
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' })
    res.write('retry: 3000\n\n')
    const send = async () => {
      if (!ctx.sessions.isLive(sessionId)) return void res.end() // the browser reconnects and gets a 401
      try {
        res.write(`event: status\ndata: ${JSON.stringify(await update(res))}\n\n`)
      } catch {
        res.end()
      }
    }
    const timer = setInterval(send, LIVE_INTERVAL_MS)
    res.on('close', () => clearInterval(timer))
    await send()
  })

  return router
}

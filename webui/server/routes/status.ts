import { type Response, Router } from 'express'
import type { LiveUpdate } from '../../shared/api-types.js'
import { loggedInIdentity, type RouteContext } from '../context.js'
import { sessionOf } from '../session-middleware.js'

/** How often the live pages get a fresh status; cheap counters, so every 2 s is fine. */
const LIVE_INTERVAL_MS = 2000

/**
 * The bridge's status, whether the logged-in identity is online, and its
 * contacts, requests and held messages, for the live pages: as a snapshot
 * and as a Server-Sent Events stream.
 */
export function statusRoutes(ctx: RouteContext): Router {
  const router = Router()

  const { services, unlocks } = ctx
  const update = async (res: Response): Promise<LiveUpdate> => {
    const { nickname } = await loggedInIdentity(ctx, res)
    return {
      status: services.status(),
      identity: { key: unlocks.state(nickname), online: services.online(nickname) },
      contacts: await services.contacts.list(nickname),
      held: await services.contacts.held(nickname),
    }
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

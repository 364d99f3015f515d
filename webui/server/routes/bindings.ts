import { type Response, Router } from 'express'
import { z } from 'zod'
import { bindingsFromFile, bindingsToFile } from '../../../bridge/service/bindings.js'
import { loggedInIdentity, parseBody, type RouteContext } from '../context.js'

const addBody = z.strictObject({ name: z.string().max(256), address: z.string().max(256) })
const renameBody = z.strictObject({ name: z.string().max(256) })
const importBody = z.strictObject({ file: z.string() })

/** Petnames of the logged-in identity: list, add, rename, remove, import, export. */
export function bindingRoutes(ctx: RouteContext): Router {
  const router = Router()
  const { bindings } = ctx.services
  const owner = async (res: Response) => (await loggedInIdentity(ctx, res)).address

  router.get('/api/bindings', async (_req, res) => {
    res.json(await bindings.list(await owner(res)))
  })

  router.post('/api/bindings', async (req, res) => {
    const ownerAddress = await owner(res)
    const { name, address } = parseBody(addBody, req.body)
    res.status(201).json(await bindings.add(ownerAddress, name, address))
  })

  router.patch('/api/bindings/:name', async (req, res) => {
    const ownerAddress = await owner(res)
    const { name } = parseBody(renameBody, req.body)
    res.json(await bindings.rename(ownerAddress, String(req.params.name), name))
  })

  router.delete('/api/bindings/:name', async (req, res) => {
    await bindings.remove(await owner(res), String(req.params.name))
    res.json({})
  })

  router.post('/api/bindings/import', async (req, res) => {
    const ownerAddress = await owner(res)
    const { file } = parseBody(importBody, req.body)
    res.json(await bindings.import(ownerAddress, bindingsFromFile(file)))
  })

  router.get('/api/bindings/export', async (_req, res) => {
    const identity = await loggedInIdentity(ctx, res)
    const file = bindingsToFile(await bindings.list(identity.address))
    res.attachment(`${identity.nickname}-names.json`).type('application/json').send(file)
  })

  return router
}

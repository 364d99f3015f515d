import type { Request, RequestHandler } from 'express'
import { WebUiError } from './errors.js'

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

export function isSafeMethod(method: string): boolean {
  return SAFE_METHODS.has(method)
}

/**
 * The Host headers this server answers to: loopback names and the configured
 * ones, each with the listening port (and bare, when the port is the scheme's
 * default, because browsers then leave it out).
 */
export function allowedHostHeaders(names: string[], port: number, tls: boolean): Set<string> {
  const defaultPort = tls ? 443 : 80
  const out = new Set<string>()
  for (const name of ['127.0.0.1', 'localhost', '[::1]', ...names]) {
    out.add(`${name}:${port}`)
    if (port === defaultPort) out.add(name)
  }
  return out
}

/**
 * Against DNS rebinding and cross-site requests: the Host must be one of ours;
 * a state-changing request must carry our Origin; and where the browser says
 * where a request comes from (Sec-Fetch-Site), it must be this site — except
 * for following a link to a page.
 */
export function requestGuard(hosts: () => Set<string>, scheme: 'http' | 'https'): RequestHandler {
  return (req, _res, next) => {
    const allowed = hosts()
    const host = (req.headers.host ?? '').toLowerCase()
    if (!allowed.has(host)) {
      throw new WebUiError(421, 'HOST_REFUSED', `this server does not answer to Host "${host}"`)
    }
    const origin = req.headers.origin
    if (origin !== undefined && !isOurOrigin(origin, allowed, scheme)) {
      throw new WebUiError(403, 'ORIGIN_REFUSED', `requests from ${origin} are refused`)
    }
    if (origin === undefined && !isSafeMethod(req.method)) {
      throw new WebUiError(403, 'ORIGIN_MISSING', 'a state-changing request must carry an Origin header')
    }
    const site = req.headers['sec-fetch-site']
    if (site !== undefined && site !== 'same-origin' && site !== 'none' && !isPageVisit(req)) {
      throw new WebUiError(
        403,
        'CROSS_SITE_REFUSED',
        `cross-site requests are refused (Sec-Fetch-Site: ${site})`,
      )
    }
    next()
  }
}

/** Following a link to one of our pages from elsewhere is fine: pages are static shells, the API is not reachable so. */
function isPageVisit(req: Request): boolean {
  return (
    req.method === 'GET' &&
    req.headers['sec-fetch-mode'] === 'navigate' &&
    req.headers['sec-fetch-dest'] === 'document' &&
    !req.path.startsWith('/api/')
  )
}

function isOurOrigin(origin: string, hosts: Set<string>, scheme: string): boolean {
  const prefix = `${scheme}://`
  return origin.startsWith(prefix) && hosts.has(origin.slice(prefix.length).toLowerCase())
}

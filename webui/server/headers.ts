import type { RequestHandler } from 'express'
import helmet from 'helmet'

/**
 * Strict CSP: only our own scripts, styles, workers and fetches; no inline
 * code, no external assets, no framing. QR codes are drawn on canvases, so
 * not even data: images are needed.
 */
export function securityHeaders(tls: boolean): RequestHandler {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'"],
        connectSrc: ["'self'"],
        workerSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    // HSTS only means something over TLS; on http://127.0.0.1 browsers ignore it anyway.
    strictTransportSecurity: tls,
    referrerPolicy: { policy: 'no-referrer' },
  })
}

import { parse as parseCookies, serialize as serializeCookie } from 'cookie'
import type { Request, RequestHandler, Response } from 'express'
import { WebUiError } from './errors.js'
import { isSafeMethod } from './request-guard.js'
import { type Session, type SessionStore, sameSecret } from './sessions.js'

export interface SessionCookie {
  /** Cookies ignore ports; the port in the name keeps two bridges on one machine apart. */
  name: string
  secure: boolean
}

export function sessionOf(res: Response): Session | undefined {
  return res.locals.session as Session | undefined
}

/** The logged-in nickname, or 401. */
export function requireLogin(res: Response): string {
  const nickname = sessionOf(res)?.nickname
  if (!nickname) throw new WebUiError(401, 'NOT_LOGGED_IN', 'log in first')
  return nickname
}

export function setSessionCookie(res: Response, cookie: SessionCookie, session: Session): void {
  res.locals.session = session
  res.append(
    'Set-Cookie',
    serializeCookie(cookie.name, session.id, {
      httpOnly: true,
      sameSite: 'strict',
      secure: cookie.secure,
      path: '/',
    }),
  )
}

/** Finds the request's session; for unsafe methods, demands the session's CSRF token (synchronizer pattern). */
export function sessionMiddleware(store: SessionStore, cookie: SessionCookie): RequestHandler {
  return (req, res, next) => {
    const session = store.get(readSessionId(req, cookie.name))
    if (session) res.locals.session = session
    if (!isSafeMethod(req.method)) checkCsrf(req, session)
    next()
  }
}

function readSessionId(req: Request, name: string): string | undefined {
  const header = req.headers.cookie
  return header ? parseCookies(header)[name] : undefined
}

function checkCsrf(req: Request, session: Session | undefined): void {
  const token = req.headers['x-csrf-token']
  if (typeof token !== 'string' || token === '') {
    throw new WebUiError(403, 'CSRF_TOKEN_MISSING', 'the request lacks its CSRF token; reload the page')
  }
  if (!session || !sameSecret(token, session.csrfToken)) {
    throw new WebUiError(
      403,
      'CSRF_TOKEN_INVALID',
      'the CSRF token does not match this session; reload the page',
    )
  }
}

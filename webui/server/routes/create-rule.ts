import { createHash, timingSafeEqual } from 'node:crypto'
import type { SessionInfo } from '../../shared/api-types.js'
import { WebUiError } from '../errors.js'
import type { WebUiOptions } from '../options.js'

/**
 * Who may create (or restore) an identity — documented in docs/webui.md:
 * - on a loopback bind, anyone at this machine while the bridge has no identity (first run);
 * - afterwards, a logged-in user, or whoever knows the admin password (when one is set);
 * - on a non-loopback bind (home server), only with the admin password or a login, first run included.
 */
export function createRequirement(
  options: WebUiOptions,
  firstRun: boolean,
  loggedIn: boolean,
): SessionInfo['createRequires'] {
  if (loggedIn || (firstRun && options.loopback)) return 'nothing'
  if (!options.adminPassword) return 'login'
  return firstRun ? 'admin-password' : 'login-or-admin-password'
}

export function checkMayCreate(
  options: WebUiOptions,
  firstRun: boolean,
  loggedIn: boolean,
  adminPassword: string | undefined,
): void {
  const needs = createRequirement(options, firstRun, loggedIn)
  if (needs === 'nothing') return
  if (adminPassword !== undefined && needs !== 'login') {
    if (sameDigest(adminPassword, options.adminPassword)) return
    throw new WebUiError(403, 'ADMIN_PASSWORD_WRONG', 'wrong admin password')
  }
  throw new WebUiError(
    401,
    'NOT_LOGGED_IN',
    needs === 'login'
      ? 'this bridge already has an identity: log in to create another'
      : 'creating an identity here needs a login or the admin password',
  )
}

/** Compares digests, so neither length nor content leaks through timing. */
function sameDigest(a: string, b: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest()
  return timingSafeEqual(digest(a), digest(b))
}

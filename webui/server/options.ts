import { readFileSync } from 'node:fs'
import { isIP } from 'node:net'
import { ConfigError } from '../../bridge/config/errors.js'
import type { Config } from '../../bridge/config/schema.js'

export interface WebUiTls {
  cert: string
  key: string
}

/** The webui config section, checked and with its TLS files read. */
export interface WebUiOptions {
  host: string
  port: number
  allowedHosts: string[]
  tls: WebUiTls | null
  adminPassword: string
  loopback: boolean
  idleMs: number
  maxSessions: number
  loginMaxAttempts: number
  loginWindowMs: number
  maxBodyBytes: number
}

function isLoopbackHost(host: string): boolean {
  if (host === 'localhost') return true
  if (isIP(host) === 4) return host.startsWith('127.')
  return host === '::1'
}

function readPem(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch (err) {
    throw new ConfigError(
      `webui.tls.${what}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? err}`,
    )
  }
}

function readTls(section: Config['webui']['tls']): WebUiTls | null {
  if (!section.cert && !section.key) return null
  if (!section.cert || !section.key) throw new ConfigError('webui.tls: set both cert and key, or neither')
  return { cert: readPem(section.cert, 'cert'), key: readPem(section.key, 'key') }
}

/**
 * A web UI reachable from other machines hands out key backups and creates
 * identities, so outside loopback it must be encrypted and password-guarded.
 */
export function resolveWebUiOptions(section: Config['webui']): WebUiOptions {
  const tls = readTls(section.tls)
  const loopback = isLoopbackHost(section.host)
  if (!loopback && !tls) {
    throw new ConfigError(
      `webui.host = "${section.host}" is not loopback: set webui.tls.cert and webui.tls.key`,
    )
  }
  if (!loopback && section.adminPassword.length < 12) {
    throw new ConfigError(
      `webui.host = "${section.host}" is not loopback: set webui.adminPassword (at least 12 characters)`,
    )
  }
  return {
    host: section.host,
    port: section.port,
    allowedHosts: section.allowedHosts.map((h) => h.toLowerCase()),
    tls,
    adminPassword: section.adminPassword,
    loopback,
    idleMs: section.session.idleMinutes * 60_000,
    maxSessions: section.session.maxSessions,
    loginMaxAttempts: section.login.maxAttempts,
    loginWindowMs: section.login.windowSeconds * 1000,
    maxBodyBytes: section.maxBodyKiB * 1024,
  }
}

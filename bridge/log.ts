import { type Logger, pino } from 'pino'
import type { Config } from './config/schema.js'

export type { Logger }

/**
 * Paths that may hold secrets anywhere in a log record; pino replaces their
 * values, so a careless `log.info({ req })` cannot leak a password or key.
 */
const REDACT = [
  'password',
  '*.password',
  'passphrase',
  '*.passphrase',
  'seed',
  '*.seed',
  'secretKey',
  '*.secretKey',
  'privateKey',
  '*.privateKey',
  'token',
  '*.token',
  'authorization',
  '*.authorization',
  'cookie',
  '*.cookie',
]

export function createLogger(config: Config['log'], destination?: NodeJS.WritableStream): Logger {
  const pretty = config.format === 'pretty' || (config.format === 'auto' && process.stderr.isTTY === true)
  const options = { level: config.level, redact: { paths: REDACT, censor: '[redacted]' } }
  if (destination) return pino(options, destination)
  if (pretty) {
    return pino({
      ...options,
      transport: { target: 'pino-pretty', options: { destination: 2, colorize: true } },
    })
  }
  return pino(options, pino.destination(2))
}

/** A logger that drops everything: for tests and library use. */
export const silentLogger: Logger = pino({ level: 'silent' })

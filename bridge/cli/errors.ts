import { ConfigError } from '../config/errors.js'
import { AddressError, BackupError, KeyBlobError, WrongPasswordError } from '../crypto/index.js'
import { ParanoimError } from '../errors.js'
import { IdentityError } from '../service/errors.js'
import { StoreError, StoreLockedError } from '../store/index.js'

/** A command line that cannot be carried out as written (missing or conflicting options…). */
export class UsageError extends ParanoimError {
  constructor(message: string) {
    super('CLI_USAGE', message)
  }
}

/** A file named on the command line cannot be read, written or understood. */
export class FileError extends ParanoimError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CLI_FILE', message, options)
  }
}

/** The process exit status for each class of problem, so scripts can tell them apart. */
export const EXIT = {
  ok: 0,
  /** A known error outside the classes below. */
  failure: 1,
  usage: 2,
  config: 3,
  dataDirLocked: 4,
  store: 5,
  wrongPassword: 6,
  badBackup: 7,
  identity: 8,
  file: 9,
  /** A bug: an error the code did not expect (sysexits' EX_SOFTWARE). */
  unexpected: 70,
} as const

const CLASSES: [abstract new (...args: never[]) => Error, number][] = [
  [UsageError, EXIT.usage],
  [ConfigError, EXIT.config],
  [StoreLockedError, EXIT.dataDirLocked],
  [StoreError, EXIT.store],
  [WrongPasswordError, EXIT.wrongPassword],
  [BackupError, EXIT.badBackup],
  [KeyBlobError, EXIT.badBackup],
  [AddressError, EXIT.badBackup],
  [IdentityError, EXIT.identity],
  [FileError, EXIT.file],
  [ParanoimError, EXIT.failure],
]

export function exitCodeFor(err: unknown): number {
  return CLASSES.find(([type]) => err instanceof type)?.[1] ?? EXIT.unexpected
}

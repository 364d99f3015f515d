import { ParanoimError } from '../errors.js'

/** Anything the store refuses or cannot do; the subclasses say which. */
export class StoreError extends ParanoimError {}

/** Another process (usually a running bridge) holds the data directory's lock. */
export class StoreLockedError extends StoreError {
  constructor(
    readonly dataDir: string,
    options?: { cause?: unknown },
  ) {
    super(
      'STORE_LOCKED',
      `data directory ${dataDir} is in use by another process (is a bridge running?); stop it or choose another --data-dir`,
      options,
    )
  }
}

/** The database files, or one record in them, cannot be read back. */
export class StoreCorruptError extends StoreError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('STORE_CORRUPT', message, options)
  }
}

/** The data directory cannot be created or opened for a reason other than a lock or corruption. */
export class StoreOpenError extends StoreError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('STORE_OPEN_FAILED', message, options)
  }
}

/** The data was written by a newer schema than this program knows, or a migration failed. */
export class StoreSchemaError extends StoreError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('STORE_SCHEMA', message, options)
  }
}

/** A caller broke the store's rules (bad table name, empty key): a bug, not bad data. */
export class StoreUsageError extends StoreError {
  constructor(message: string) {
    super('STORE_USAGE', message)
  }
}

import { mkdir } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { ClassicLevel } from 'classic-level'
import { MemoryLevel } from 'memory-level'
import { z } from 'zod'
import { type Codec, jsonCodec } from './codec.js'
import {
  StoreCorruptError,
  type StoreError,
  StoreLockedError,
  StoreOpenError,
  StoreSchemaError,
  StoreUsageError,
} from './errors.js'
import { type BatchOp, LEVEL_OPTIONS, type RootLevel, type TableLevel } from './level.js'
import { migrations as currentMigrations, type Migration } from './migrations.js'
import { Table } from './table.js'

/** The LevelDB files live in this sub-directory of the data dir, next to other state (certificates…). */
export const STORE_SUBDIR = 'store'

const META_TABLE = 'meta'
const SCHEMA_VERSION_KEY = 'schemaVersion'
/** Sublevel names are ASCII and must sort after the '!' separator. */
const TABLE_NAME = /^[a-z][a-z0-9-]{0,39}$/

export interface StoreOptions {
  /** The schema steps to bring the data to; defaults to this program's own list. */
  migrations?: readonly Migration[]
}

/**
 * The bridge's database: typed tables in sublevels of one LevelDB (or of one
 * in-memory level, for tests — the same code runs on both), atomic batches
 * across tables, and a schema version kept current by migrations at open.
 */
export class Store {
  private readonly levels = new Map<string, TableLevel>()
  private version = 0

  private constructor(
    private readonly db: RootLevel,
    /** The data directory, or null for an in-memory store. */
    readonly dataDir: string | null,
  ) {}

  /** @internal Opens `db` (already constructed) and runs the pending migrations. */
  static async open(db: RootLevel, dataDir: string | null, options: StoreOptions): Promise<Store> {
    try {
      await db.open()
    } catch (err) {
      throw openError(err, dataDir ?? 'in memory')
    }
    const store = new Store(db, dataDir)
    try {
      await store.migrate(options.migrations ?? currentMigrations)
    } catch (err) {
      await db.close()
      throw err
    }
    return store
  }

  /** The schema version of the data, after migrations. */
  get schemaVersion(): number {
    return this.version
  }

  /** A typed table; every call with the same name reaches the same records. */
  table<T>(name: string, codec: Codec<T>): Table<T> {
    if (!TABLE_NAME.test(name) || name === META_TABLE) {
      throw new StoreUsageError(
        `bad table name "${name}": lowercase letters, digits and "-", not "${META_TABLE}"`,
      )
    }
    return new Table(name, this.level(name), codec)
  }

  /** Commits every write or none, across any tables of this store. */
  batch(ops: BatchOp[]): Promise<void> {
    return this.db.batch(ops)
  }

  close(): Promise<void> {
    return this.db.close()
  }

  private level(name: string): TableLevel {
    let level = this.levels.get(name)
    if (!level) {
      level = this.db.sublevel<string, Uint8Array>(name, LEVEL_OPTIONS)
      this.levels.set(name, level)
    }
    return level
  }

  private async migrate(steps: readonly Migration[]): Promise<void> {
    steps.forEach((step, i) => {
      if (step.version !== i + 1) throw new StoreUsageError(`migration #${i + 1} has version ${step.version}`)
    })
    const meta = new Table(META_TABLE, this.level(META_TABLE), jsonCodec(z.number().int().nonnegative()))
    this.version = (await meta.get(SCHEMA_VERSION_KEY)) ?? 0
    if (this.version > steps.length) {
      throw new StoreSchemaError(
        `data in ${this.dataDir} has schema version ${this.version}, newer than this program's ${steps.length}; ` +
          'upgrade ParanoIM to open it',
      )
    }
    for (const step of steps.slice(this.version)) {
      try {
        const ops = await step.up(this)
        await this.batch([...ops, meta.putOp(SCHEMA_VERSION_KEY, step.version)])
      } catch (err) {
        throw new StoreSchemaError(
          `migration to schema ${step.version} (${step.description}) failed: ${(err as Error).message}`,
          { cause: err },
        )
      }
      this.version = step.version
    }
  }
}

function openError(err: unknown, dataDir: string): StoreError {
  // abstract-level wraps the backend's error as the cause of LEVEL_DATABASE_NOT_OPEN.
  const cause = ((err as { cause?: unknown }).cause ?? err) as { code?: string; message?: string }
  if (cause.code === 'LEVEL_LOCKED') return new StoreLockedError(dataDir, { cause: err })
  if (cause.code === 'LEVEL_CORRUPTION') {
    return new StoreCorruptError(`data directory ${dataDir} is damaged: ${cause.message}`, { cause: err })
  }
  return new StoreOpenError(`cannot open data directory ${dataDir}: ${cause.message ?? String(cause)}`, {
    cause: err,
  })
}

/** Opens (creating it, mode 0700) the store of a data directory. */
export async function openStore(options: StoreOptions & { dataDir: string }): Promise<Store> {
  const dataDir = resolve(options.dataDir)
  try {
    await mkdir(dataDir, { recursive: true, mode: 0o700 })
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? String(err)
    throw new StoreOpenError(`cannot create data directory ${dataDir}: ${code}`, { cause: err })
  }
  const db = new ClassicLevel<string, Uint8Array>(join(dataDir, STORE_SUBDIR), LEVEL_OPTIONS)
  return Store.open(db, dataDir, options)
}

/** A store that lives in memory only, for tests; same tables, batches and migrations. */
export function openMemoryStore(options: StoreOptions = {}): Promise<Store> {
  return Store.open(new MemoryLevel<string, Uint8Array>(LEVEL_OPTIONS), null, options)
}

import { z } from 'zod'
import type { Codec } from './codec.js'
import { StoreCorruptError, StoreUsageError } from './errors.js'
import type { BatchOp, TableLevel } from './level.js'

/**
 * Which keys to visit, in key order (UTF-8 byte order). Either a `prefix` or
 * bounds, not both. A prefix matches every key that starts with it (keys that
 * continue with U+10FFFF are the one exception, and nobody uses that character).
 */
export interface KeyRange {
  prefix?: string
  gt?: string
  gte?: string
  lt?: string
  lte?: string
  limit?: number
  reverse?: boolean
}

/** Sorts after every valid UTF-8 continuation of a prefix. */
const PREFIX_END = '\u{10FFFF}'

function levelRange(range: KeyRange): Omit<KeyRange, 'prefix'> {
  const { prefix, ...bounds } = range
  if (prefix === undefined) return bounds
  if (
    bounds.gt !== undefined ||
    bounds.gte !== undefined ||
    bounds.lt !== undefined ||
    bounds.lte !== undefined
  ) {
    throw new StoreUsageError('a key range takes either a prefix or bounds, not both')
  }
  return { ...bounds, gte: prefix, lt: prefix + PREFIX_END }
}

function describe(err: unknown): string {
  if (err instanceof z.ZodError) return z.prettifyError(err).replaceAll('\n', '; ')
  return err instanceof Error ? err.message : String(err)
}

/** A typed key → value table in its own sublevel. Get one with `store.table(name, codec)`. */
export class Table<T> {
  constructor(
    readonly name: string,
    private readonly level: TableLevel,
    private readonly codec: Codec<T>,
  ) {}

  async get(key: string): Promise<T | undefined> {
    const bytes = await this.level.get(checkKey(key))
    return bytes === undefined ? undefined : this.decode(key, bytes)
  }

  has(key: string): Promise<boolean> {
    return this.level.has(checkKey(key))
  }

  put(key: string, value: T): Promise<void> {
    return this.level.put(checkKey(key), this.codec.encode(value))
  }

  del(key: string): Promise<void> {
    return this.level.del(checkKey(key))
  }

  /** A put for `store.batch()`, committed atomically with the batch's other writes. */
  putOp(key: string, value: T): BatchOp {
    return { type: 'put', sublevel: this.level, key: checkKey(key), value: this.codec.encode(value) }
  }

  /** A delete for `store.batch()`. */
  delOp(key: string): BatchOp {
    return { type: 'del', sublevel: this.level, key: checkKey(key) }
  }

  async *entries(range: KeyRange = {}): AsyncGenerator<[string, T]> {
    for await (const [key, bytes] of this.level.iterator(levelRange(range))) {
      yield [key, this.decode(key, bytes)]
    }
  }

  async *keys(range: KeyRange = {}): AsyncGenerator<string> {
    yield* this.level.keys(levelRange(range))
  }

  async count(range: KeyRange = {}): Promise<number> {
    let n = 0
    for await (const _ of this.level.keys(levelRange(range))) n++
    return n
  }

  private decode(key: string, bytes: Uint8Array): T {
    try {
      return this.codec.decode(bytes)
    } catch (err) {
      throw new StoreCorruptError(`table ${this.name}: record "${key}" cannot be read: ${describe(err)}`, {
        cause: err,
      })
    }
  }
}

function checkKey(key: string): string {
  if (typeof key !== 'string' || key.length === 0)
    throw new StoreUsageError('a table key must be a non-empty string')
  return key
}

import { z } from 'zod'
import { encodeAddress, parseAddress } from '../crypto/address.js'
import { ParanoimError } from '../errors.js'
import { jsonCodec } from '../store/codec.js'
import type { Store } from '../store/store.js'
import type { Table } from '../store/table.js'

/**
 * Address bindings (petnames): names a user gives to addresses, private to one
 * of the bridge's identities. A name maps to one address and an address has at
 * most one name, so a name can stand in a roster without ambiguity. The
 * address stays the contact's identity; a binding only labels it.
 *
 * Table `bindings`, key `<owner address>/<name>` (addresses have a fixed
 * length, so the prefix `<owner>/` lists one owner's bindings).
 */
export interface Binding {
  name: string
  /** Canonical (lowercase) address text. */
  address: string
  /** Milliseconds since the epoch. */
  createdAt: number
}

export type BindingErrorCode =
  | 'BINDING_NAME_INVALID'
  | 'BINDING_NOT_FOUND'
  | 'BINDING_NAME_EXISTS'
  | 'BINDING_ADDRESS_EXISTS'
  | 'BINDING_FILE_FORMAT'

export class BindingError extends ParanoimError {
  declare readonly code: BindingErrorCode

  constructor(code: BindingErrorCode, message: string) {
    super(code, message)
  }
}

const MAX_BINDING_NAME = 64

const bindingRecord = z.strictObject({
  name: z.string(),
  address: z.string(),
  createdAt: z.number().int().nonnegative(),
})

export function bindingsTable(store: Store): Table<Binding> {
  return store.table('bindings', jsonCodec(bindingRecord))
}

/** Trims; refuses empty, over-long names and control characters (they would garble a roster). */
function checkBindingName(raw: string): string {
  const name = raw.trim()
  if (name.length === 0) throw new BindingError('BINDING_NAME_INVALID', 'a name cannot be empty')
  if (name.length > MAX_BINDING_NAME) {
    throw new BindingError('BINDING_NAME_INVALID', `a name has at most ${MAX_BINDING_NAME} characters`)
  }
  if (/\p{Cc}/u.test(name))
    throw new BindingError('BINDING_NAME_INVALID', 'a name cannot contain control characters')
  return name
}

/** Throws AddressError (length, character, checksum, version) on a mistyped address. */
function canonicalAddress(text: string): string {
  return encodeAddress(parseAddress(text))
}

export interface BindingsImportResult {
  added: number
  unchanged: number
  /** Entries left alone because they contradict an existing binding. */
  conflicts: { name: string; address: string; reason: string }[]
}

export class BindingsService {
  readonly #store: Store
  readonly #table: Table<Binding>
  readonly #clock: () => number
  readonly #listeners = new Set<(owner: string) => void>()
  #queue: Promise<unknown> = Promise.resolve()

  constructor(store: Store, clock: () => number = Date.now) {
    this.#store = store
    this.#table = bindingsTable(store)
    this.#clock = clock
  }

  /**
   * Calls `listener(owner)` after every write to an owner's bindings, so the
   * XMPP side can push new roster names (RFC 6121 §2.1.6). Returns an unsubscribe function.
   */
  onChange(listener: (owner: string) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  async list(owner: string): Promise<Binding[]> {
    const out: Binding[] = []
    for await (const [, binding] of this.#table.entries({ prefix: `${owner}/` })) out.push(binding)
    return out
  }

  /** The petname of an address, for roster names. */
  async nameFor(owner: string, address: string): Promise<string | undefined> {
    return (await this.list(owner)).find((b) => b.address === address)?.name
  }

  async add(owner: string, rawName: string, rawAddress: string): Promise<Binding> {
    const name = checkBindingName(rawName)
    const address = canonicalAddress(rawAddress)
    return this.#change(owner, async () => {
      assertFree(await this.list(owner), name, address)
      const binding = { name, address, createdAt: this.#clock() }
      await this.#table.put(key(owner, name), binding)
      return binding
    })
  }

  async rename(owner: string, oldName: string, rawNewName: string): Promise<Binding> {
    const newName = checkBindingName(rawNewName)
    return this.#change(owner, async () => {
      const existing = await this.list(owner)
      const binding = existing.find((b) => b.name === oldName)
      if (!binding) throw new BindingError('BINDING_NOT_FOUND', `no binding named "${oldName}"`)
      if (newName === oldName) return binding
      if (existing.some((b) => b.name === newName)) {
        throw new BindingError('BINDING_NAME_EXISTS', `the name "${newName}" is already used`)
      }
      const renamed = { ...binding, name: newName }
      await this.#store.batch([
        this.#table.putOp(key(owner, newName), renamed),
        this.#table.delOp(key(owner, oldName)),
      ])
      return renamed
    })
  }

  async remove(owner: string, name: string): Promise<void> {
    return this.#change(owner, async () => {
      if (!(await this.#table.has(key(owner, name)))) {
        throw new BindingError('BINDING_NOT_FOUND', `no binding named "${name}"`)
      }
      await this.#table.del(key(owner, name))
    })
  }

  /** Every entry is checked before anything is written; contradicting entries are reported, not applied. */
  async import(owner: string, entries: { name: string; address: string }[]): Promise<BindingsImportResult> {
    const checked = entries.map((e) => ({
      name: checkBindingName(e.name),
      address: canonicalAddress(e.address),
    }))
    return this.#change(owner, async () => {
      const existing = await this.list(owner)
      const result: BindingsImportResult = { added: 0, unchanged: 0, conflicts: [] }
      for (const entry of checked) {
        if (existing.some((b) => b.name === entry.name && b.address === entry.address)) {
          result.unchanged++
          continue
        }
        try {
          assertFree(existing, entry.name, entry.address)
        } catch (err) {
          result.conflicts.push({ ...entry, reason: (err as BindingError).message })
          continue
        }
        const binding = { ...entry, createdAt: this.#clock() }
        await this.#table.put(key(owner, entry.name), binding)
        existing.push(binding)
        result.added++
      }
      return result
    })
  }

  /**
   * Runs one change at a time (so two requests cannot both take a free name),
   * then tells the listeners; a change that failed tells nobody.
   */
  #change<T>(owner: string, task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task, task)
    this.#queue = run.catch(() => {})
    return run.then((result) => {
      for (const listener of this.#listeners) listener(owner)
      return result
    })
  }
}

function key(owner: string, name: string): string {
  return `${owner}/${name}`
}

function assertFree(existing: Binding[], name: string, address: string): void {
  if (existing.some((b) => b.name === name)) {
    throw new BindingError('BINDING_NAME_EXISTS', `the name "${name}" is already used`)
  }
  const other = existing.find((b) => b.address === address)
  if (other) throw new BindingError('BINDING_ADDRESS_EXISTS', `this address is already named "${other.name}"`)
}

const BINDINGS_FILE_FORMAT = 'paranoim-bindings'

const bindingsFile = z.strictObject({
  format: z.literal(BINDINGS_FILE_FORMAT),
  version: z.literal(1),
  bindings: z.array(z.strictObject({ name: z.string(), address: z.string() })).max(10_000),
})

/** The export file: JSON, so a person can read and edit it. */
export function bindingsToFile(bindings: Binding[]): string {
  const file = {
    format: BINDINGS_FILE_FORMAT,
    version: 1,
    bindings: bindings.map(({ name, address }) => ({ name, address })),
  }
  return `${JSON.stringify(file, null, 2)}\n`
}

export function bindingsFromFile(text: string): { name: string; address: string }[] {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    throw new BindingError('BINDING_FILE_FORMAT', 'the file is not JSON: not a ParanoIM bindings export')
  }
  const parsed = bindingsFile.safeParse(json)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    const where = issue?.path.length ? ` at ${issue.path.join('.')}` : ''
    throw new BindingError('BINDING_FILE_FORMAT', `not a ParanoIM bindings export${where}: ${issue?.message}`)
  }
  return parsed.data.bindings
}

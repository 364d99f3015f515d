import type { GroupsConfig } from '../../config/sections/groups.js'
import type { CryptoBackend } from '../../crypto/backend.js'
import type { BatchOp, Store } from '../../store/index.js'
import type { KeyPackage } from '../../wire/group-message.js'
import { messageKey } from './keys.js'
import { type EpochKeyRecord, type GroupTables, numberKey } from './tables.js'

/**
 * One session's epoch keys (docs/groups.md "Key rotation"), in LevelDB and
 * memory: the newest epoch's and those of `keptEpochs` before it, each until
 * `epochKeyRetainMs` after its successor arrived. Deleted keys are zeroed in
 * memory and their records deleted (the bytes leave the disk when LevelDB compacts).
 */
export class EpochKeyRing {
  private readonly keys = new Map<number, EpochKeyRecord>()
  private readonly messageKeys = new Map<number, Uint8Array>()

  constructor(
    private readonly deps: {
      store: Store
      tables: GroupTables
      /** `local:group:` */
      prefix: string
      group: Uint8Array
      config: GroupsConfig
      backend: CryptoBackend
      now: () => number
    },
  ) {}

  async load(): Promise<void> {
    const { tables, prefix } = this.deps
    for await (const [key, k] of tables.epochKeys.entries({ prefix }))
      this.keys.set(Number(key.slice(prefix.length)), k)
  }

  /** Epochs held, oldest first. */
  epochs(): number[] {
    return [...this.keys.keys()].sort((a, b) => a - b)
  }

  get(epoch: number): EpochKeyRecord | undefined {
    return this.keys.get(epoch)
  }

  /** The XChaCha20-Poly1305 key of an epoch's messages, derived once. */
  messageKey(epoch: number): Uint8Array | undefined {
    let key = this.messageKeys.get(epoch)
    const held = this.keys.get(epoch)
    if (!key && held) {
      key = messageKey(this.deps.backend, this.deps.group, epoch, held.epochKey)
      this.messageKeys.set(epoch, key)
    }
    return key
  }

  /** Stores a package's keys (copies) and starts the retention clock of the epochs before it. */
  async add(pkg: KeyPackage): Promise<void> {
    const prepared = this.prepare(pkg)
    await this.deps.store.batch(prepared.ops)
    prepared.apply()
    await this.dropOld()
  }

  /**
   * The writes that store `pkg`, for the caller's batch, and what to do in
   * memory once it is committed (so a new state and its key land together).
   */
  prepare(pkg: KeyPackage): { ops: BatchOp[]; apply: () => void } {
    const now = this.deps.now()
    const record: EpochKeyRecord = {
      epochKey: pkg.epochKey.slice(),
      mailboxSeed: pkg.mailboxSeed.slice(),
      stateVersion: pkg.stateVersion,
      stateHash: pkg.stateHash.slice(),
      receivedAt: now,
    }
    // A late key of an older epoch starts its retention when its successor arrived, not now.
    const successor = [...this.keys].filter(([epoch]) => epoch > pkg.epoch).sort(([a], [b]) => a - b)[0]
    if (successor) record.supersededAt = successor[1].receivedAt
    const superseded = [...this.keys].filter(
      ([epoch, k]) => epoch < pkg.epoch && k.supersededAt === undefined,
    )
    const ops = [
      this.putOp(pkg.epoch, record),
      ...superseded.map(([epoch, k]) => this.putOp(epoch, { ...k, supersededAt: now })),
    ]
    const apply = () => {
      for (const [, k] of superseded) k.supersededAt = now
      this.keys.set(pkg.epoch, record)
    }
    return { ops, apply }
  }

  /** Keys more than keptEpochs behind the newest, or superseded longer than epochKeyRetainMs ago, go. */
  async dropOld(): Promise<void> {
    const { keptEpochs, epochKeyRetainMs } = this.deps.config
    const newest = Math.max(0, ...this.keys.keys())
    const now = this.deps.now()
    await this.drop(
      this.epochs().filter((epoch) => {
        const since = this.keys.get(epoch)!.supersededAt
        return epoch < newest - keptEpochs || (since !== undefined && now - since >= epochKeyRetainMs)
      }),
    )
  }

  /** Every key goes (the local identity left the group). */
  dropAll(): Promise<void> {
    return this.drop(this.epochs())
  }

  private async drop(epochs: number[]): Promise<void> {
    if (epochs.length === 0) return
    const { store, tables } = this.deps
    await store.batch(epochs.map((epoch) => tables.epochKeys.delOp(this.recordKey(epoch))))
    for (const epoch of epochs) {
      const k = this.keys.get(epoch)!
      k.epochKey.fill(0)
      k.mailboxSeed.fill(0)
      this.messageKeys.get(epoch)?.fill(0)
      this.messageKeys.delete(epoch)
      this.keys.delete(epoch)
    }
  }

  private recordKey(epoch: number): string {
    return `${this.deps.prefix}${numberKey(epoch)}`
  }

  private putOp(epoch: number, record: EpochKeyRecord): BatchOp {
    return this.deps.tables.epochKeys.putOp(this.recordKey(epoch), record)
  }
}

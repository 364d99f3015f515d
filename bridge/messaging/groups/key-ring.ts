import type { GroupsConfig } from '../../config/sections/groups.js'
import type { CryptoBackend } from '../../crypto/backend.js'
import type { BatchOp, Store } from '../../store/index.js'
import type { KeyPackage } from '../../wire/group-message.js'
import { messageKey } from './keys.js'
import { type EpochKeyRecord, type GroupTables, numberKey } from './tables.js'

/**
 * One session's epoch keys (docs/groups.md "Key rotation"), in LevelDB and
 * memory. A key is **live** (opens any message of its epoch) while it is the
 * newest or one of `keptEpochs` before it, until `epochKeyRetainMs` after its
 * successor arrived. Past that it stays for the **group mailbox only** until
 * `mailboxKeyRetainMs` after its successor arrived: items wait at the holders
 * that long, and a member back from a long absence reads them. Deleted keys
 * are zeroed in memory and their records deleted (the bytes leave the disk
 * when LevelDB compacts).
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

  /** Epochs whose keys are live, oldest first. */
  epochs(): number[] {
    return this.held().filter((epoch) => this.isLive(epoch))
  }

  /** Epochs whose keys open group mailbox items (the live ones and those kept for the mailbox), oldest first. */
  mailboxEpochs(): number[] {
    return this.held()
  }

  /** A live key. */
  get(epoch: number): EpochKeyRecord | undefined {
    return this.isLive(epoch) ? this.keys.get(epoch) : undefined
  }

  /** A key that opens the epoch's group mailbox items (live or kept for the mailbox). */
  forMailbox(epoch: number): EpochKeyRecord | undefined {
    return this.keys.get(epoch)
  }

  /** The XChaCha20-Poly1305 key of an epoch's messages, derived once; `mailbox`: for a group mailbox item. */
  messageKey(epoch: number, { mailbox = false } = {}): Uint8Array | undefined {
    let key = this.messageKeys.get(epoch)
    const held = mailbox ? this.forMailbox(epoch) : this.get(epoch)
    if (!held) return undefined
    if (!key) {
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

  /** Keys neither live nor kept for the group mailbox go. */
  async dropOld(): Promise<void> {
    await this.drop(this.held().filter((epoch) => !this.isLive(epoch) && !this.keptForMailbox(epoch)))
  }

  private held(): number[] {
    return [...this.keys.keys()].sort((a, b) => a - b)
  }

  /** Within keptEpochs of the newest, and not superseded epochKeyRetainMs ago or more. */
  private isLive(epoch: number): boolean {
    const k = this.keys.get(epoch)
    if (!k) return false
    const { keptEpochs, epochKeyRetainMs } = this.deps.config
    if (epoch < Math.max(0, ...this.keys.keys()) - keptEpochs) return false
    return k.supersededAt === undefined || this.deps.now() - k.supersededAt < epochKeyRetainMs
  }

  /** Superseded less than mailboxKeyRetainMs ago: its group mailbox items may still wait at the holders. */
  private keptForMailbox(epoch: number): boolean {
    const since = this.keys.get(epoch)?.supersededAt
    return since !== undefined && this.deps.now() - since < this.deps.config.mailboxKeyRetainMs
  }

  /** Every key goes (the local identity left the group). */
  dropAll(): Promise<void> {
    return this.drop(this.held())
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

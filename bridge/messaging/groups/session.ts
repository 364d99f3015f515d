import type { GroupsConfig } from '../../config/sections/groups.js'
import type { CryptoBackend } from '../../crypto/backend.js'
import { defaultBackend } from '../../crypto/default-backend.js'
import type { Identity } from '../../crypto/identity.js'
import type { BatchOp, Store } from '../../store/index.js'
import { MESSAGE_ID_BYTES } from '../../wire/group-bytes.js'
import { controlGroup, encodeGroupControl, type GroupControl, packUpdates } from '../../wire/group-control.js'
import {
  decodeGroupBody,
  decodeGroupMessage,
  decodeKeyPackage,
  encodeGroupBody,
  encodeKeyPackage,
  type GroupBody,
  type GroupMessage,
  type GroupMessageMode,
  type KeyPackage,
} from '../../wire/group-message.js'
import { decodeSnapshot, encodeSnapshot } from '../../wire/group-state.js'
import { decodeUpdate, type GroupOp, stateHash } from '../../wire/group-update.js'
import { GroupError, malformedIfWire } from './errors.js'
import type { GroupKeyPair } from './group-key.js'
import { EpochKeyRing } from './key-ring.js'
import { drawEpochSecrets, groupMailboxIdentity, groupMailboxItemKey } from './keys.js'
import { openMailboxItem, openNormal, sealHigh, sealMailboxItem, sealNormal } from './message.js'
import {
  applyUpdate,
  fromSnapshot,
  type GroupState,
  genesisUpdate,
  hex,
  proposeUpdate,
  type StateChange,
  toSnapshot,
} from './state.js'
import {
  type EpochKeyRecord,
  type GroupTables,
  groupTables,
  numberKey,
  type SessionRecord,
} from './tables.js'

export interface GroupSessionOptions {
  store: Store
  /** The local identity this session belongs to (unlocked). */
  local: Identity
  /** The group key. */
  group: Uint8Array
  config: GroupsConfig
  /** messaging.maxMessageBytes: the largest pairwise body. */
  maxMessageBytes: number
  backend?: CryptoBackend
  now?: () => number
  random?: (n: number) => Uint8Array
}

/** Bodies to hand the messenger (reliable): each address in `to` gets `body`. */
export interface Outgoing {
  to: Uint8Array[]
  body: Uint8Array
}

export interface LocalChange {
  change: StateChange
  sends: Outgoing[]
}

export interface SealedGroupMessage {
  id: Uint8Array
  timestamp: number
  mode: GroupMessageMode
  /** The group message (what the fan-out carries in normal mode). */
  message: Uint8Array
  /** The same as a pairwise group body: the sender delivers it to each recipient directly (always so in high mode). */
  pairwiseBody: Uint8Array
  /** Every member but the sender. */
  recipients: Uint8Array[]
}

export interface OpenedGroupMessage {
  group: Uint8Array
  sender: Uint8Array
  id: Uint8Array
  timestamp: number
  epoch: number
  mode: GroupMessageMode
  body: GroupBody
}

export interface OpenOptions {
  /** The authenticated sender of the pairwise envelope that carried it (required for high mode). */
  via?: Uint8Array
  /** The caller's own records for this message, committed in the same batch as its dedupe entry. */
  write?: (opened: OpenedGroupMessage) => BatchOp[]
}

/** What receive() made of a pairwise group body. */
export type GroupReceived =
  | { type: 'state'; changes: StateChange[] }
  | { type: 'key'; result: 'stored' | 'pending' | 'duplicate' }
  | { type: 'message'; message: OpenedGroupMessage }
  /** Bodies to send back to the member that asked. */
  | { type: 'sync'; replies: Uint8Array[] }
  /** A private message (XEP-0045 §7.5) from a member of the state held: its stanza payload. */
  | { type: 'private'; payload: Uint8Array }

export interface CreateOptions {
  name: string
  description?: string
  membersOnly?: boolean
  mode?: 'normal' | 'high'
  maxMembers?: number
  /** The creator's nick; it becomes the first owner. */
  nick: string
  members?: { address: Uint8Array; nick: string; affiliation?: 'owner' | 'admin' | 'member' }[]
}

const equal = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(a, b) === 0
/** Member lists of this many recent state versions are kept for packets that cross a change. */
const KEPT_MEMBER_LISTS = 4

/**
 * One local identity's view of one group (docs/groups.md): the state held,
 * the epoch keys of the kept window, and the (sender, id) pairs already
 * opened — all in LevelDB, so a restart forgets nothing. Operations run one at
 * a time. It never sends: methods that need messages sent return them as
 * Outgoing bodies for the messenger (or the fan-out) to carry.
 */
export class GroupSession {
  private readonly tables: GroupTables
  private readonly backend: CryptoBackend
  private readonly now: () => number
  private readonly random: (n: number) => Uint8Array
  private readonly prefix: string
  private heldState: GroupState | undefined
  private record: SessionRecord = { snapshot: new Uint8Array(0), seenFloor: 0, lastTimestamp: 0 }
  private readonly memberLists = new Map<number, Uint8Array[]>()
  private readonly keys: EpochKeyRing
  private seenCount = 0
  private tail: Promise<unknown> = Promise.resolve()

  private constructor(private readonly options: GroupSessionOptions) {
    this.tables = groupTables(options.store)
    this.backend = options.backend ?? defaultBackend
    this.now = options.now ?? Date.now
    this.random = options.random ?? ((n) => this.backend.randomBytes(n))
    this.prefix = `${hex(options.local.publicKey)}:${hex(options.group)}:`
    this.keys = new EpochKeyRing({
      store: options.store,
      tables: this.tables,
      prefix: this.prefix,
      group: options.group,
      config: options.config,
      backend: this.backend,
      now: this.now,
    })
  }

  /** The session as stored (a fresh one, without state, the first time). */
  static async load(options: GroupSessionOptions): Promise<GroupSession> {
    const session = new GroupSession(options)
    await session.reload()
    return session
  }

  /** The groups `local` holds a state of (to load their sessions at unlock). */
  static async groupsOf(store: Store, local: Uint8Array): Promise<Uint8Array[]> {
    const prefix = `${hex(local)}:`
    const groups: Uint8Array[] = []
    for await (const key of groupTables(store).sessions.keys({ prefix }))
      groups.push(new Uint8Array(Buffer.from(key.slice(prefix.length), 'hex')))
    return groups
  }

  /** The state held; undefined until the first update is applied. */
  get state(): GroupState | undefined {
    return this.heldState
  }

  /**
   * The ordered member list (sorted addresses, the same on every member) of
   * the held state or one of the few versions before it this session applied:
   * fan-out packets name members by their index in it, and one made just
   * before a change may arrive after two.
   */
  membersAt(version: number): Uint8Array[] | undefined {
    return this.memberLists.get(version)
  }

  private rememberMembers(state: GroupState): void {
    const list = [...state.members.values()].map((m) => m.address).sort((a, b) => Buffer.compare(a, b))
    this.memberLists.set(state.version, list)
    for (const old of this.memberLists.keys())
      if (old <= state.version - KEPT_MEMBER_LISTS) this.memberLists.delete(old)
  }

  /** Epochs whose keys are held live (they open any message), oldest first. */
  epochs(): number[] {
    return this.keys.epochs()
  }

  /**
   * Epochs whose group mailbox items can be opened, oldest first: the live
   * ones and older ones kept for the mailbox (groups.mailboxKeyRetainMs).
   */
  mailboxEpochs(): number[] {
    return this.keys.mailboxEpochs()
  }

  /** The identity of the group mailbox of an epoch (the current one by default), when its key is held. */
  mailboxIdentity(epoch = this.heldState?.epoch ?? 0): Identity | undefined {
    const keys = this.keys.forMailbox(epoch)
    return keys && groupMailboxIdentity(this.backend, this.options.group, epoch, keys.mailboxSeed)
  }

  /**
   * A sealed group message as an item for the group mailbox of the current
   * epoch (for members the fan-out does not reach). Normal mode only; throws
   * NO_EPOCH_KEY, WRONG_MODE, GROUP_MALFORMED (longer than MAX_MAILBOX_MESSAGE).
   */
  mailboxItem(message: Uint8Array): Uint8Array {
    const state = this.requireState()
    if (state.config.mode === 'high')
      throw new GroupError('WRONG_MODE', 'a high-mode group has no group mailbox')
    const keys = this.keys.get(state.epoch)
    if (!keys) throw new GroupError('NO_EPOCH_KEY', `no key for epoch ${state.epoch} has arrived yet`)
    return sealMailboxItem(this.backend, this.itemKey(state.epoch, keys.mailboxSeed), message, this.random)
  }

  /** A group message fetched from the group mailbox of `epoch`, opened as open() does. */
  openMailboxItem(epoch: number, item: Uint8Array, options: OpenOptions = {}): Promise<OpenedGroupMessage> {
    const keys = this.keys.forMailbox(epoch)
    if (!keys) return Promise.reject(new GroupError('STALE_EPOCH', `no key of epoch ${epoch} is held`))
    let message: Uint8Array
    try {
      message = openMailboxItem(this.backend, this.itemKey(epoch, keys.mailboxSeed), item)
    } catch (err) {
      return Promise.reject(err)
    }
    return this.openMessage(message, options, true)
  }

  /** Makes the group's first state (signed by `groupKey`), epoch 1 and its keys. */
  create(groupKey: GroupKeyPair, setup: CreateOptions): Promise<LocalChange> {
    if (!equal(groupKey.publicKey, this.options.group))
      throw new GroupError('WRONG_GROUP', 'the group key is not the key of this session')
    const ops: GroupOp[] = [
      { op: 'name', name: setup.name },
      ...(setup.description ? [{ op: 'description' as const, description: setup.description }] : []),
      { op: 'membersOnly', membersOnly: setup.membersOnly ?? true },
      { op: 'mode', mode: setup.mode ?? 'normal' },
      { op: 'maxMembers', maxMembers: setup.maxMembers ?? this.options.config.maxMembers },
      { op: 'put', address: this.options.local.publicKey, affiliation: 'owner', nick: setup.nick },
      ...(setup.members ?? []).map((m) => ({
        op: 'put' as const,
        address: m.address,
        affiliation: m.affiliation ?? ('member' as const),
        nick: m.nick,
      })),
    ]
    return this.serial(async () => {
      if (this.heldState) throw new GroupError('STATE_ROLLBACK', 'this group already has a state')
      return this.commitLocal(genesisUpdate(groupKey, ops, this.applyOptions()))
    })
  }

  /**
   * A change made here, signed by the local identity (an owner or admin) or,
   * with `asGroupKey`, by the group key. A removal or ban starts a new epoch:
   * its keys are drawn here and sent to every remaining member; members added
   * without a new epoch get the current epoch's key and the whole chain.
   */
  change(
    ops: GroupOp[],
    options: { newEpoch?: boolean; asGroupKey?: GroupKeyPair } = {},
  ): Promise<LocalChange> {
    return this.serial(async () => {
      const held = this.requireState()
      const signer = options.asGroupKey ?? this.options.local
      return this.commitLocal(
        proposeUpdate(held, signer, ops, { ...this.applyOptions(), newEpoch: options.newEpoch }),
      )
    })
  }

  /**
   * Updates from another member: applied in order when each is the valid
   * successor of the state held (docs/groups.md "State chain"). Throws
   * GroupError (STATE_GAP: ask for the updates after `heldVersion`); the
   * updates before the refused one are kept.
   */
  applyState(updates: Uint8Array[]): Promise<StateChange[]> {
    return this.serial(async () => {
      const changes: StateChange[] = []
      try {
        for (const bytes of updates) {
          if (await this.inChain(bytes)) continue
          const result = applyUpdate(changes.at(-1)?.state ?? this.heldState, bytes, this.applyOptions())
          if (result !== 'duplicate') changes.push(result)
        }
      } finally {
        if (changes.length) await this.persistChanges(changes)
      }
      return changes
    })
  }

  /**
   * A pairwise group body from `from` (the envelope's authenticated sender),
   * decoded with decodeGroupControl and routed here by controlGroup(). Throws
   * GroupError; on STATE_GAP or FUTURE_EPOCH send `from` the syncRequest()
   * body (the answer brings the missing updates and, from an owner or admin,
   * the current epoch's key).
   */
  async receive(from: Uint8Array, control: GroupControl): Promise<GroupReceived> {
    if (!equal(controlGroup(control), this.options.group))
      throw new GroupError('WRONG_GROUP', 'a body about another group')
    switch (control.type) {
      case 'updates':
        return { type: 'state', changes: await this.applyState(control.updates) }
      case 'key':
        return { type: 'key', result: await this.applyKeyPackage(from, control.keyPackage) }
      case 'message':
        return { type: 'message', message: await this.open(control.message, { via: from }) }
      case 'sync':
        return { type: 'sync', replies: await this.syncReplies(from, control.version) }
      case 'private':
        if (!this.heldState?.members.has(hex(from)))
          throw new GroupError('NOT_MEMBER', 'a private message from someone not a member')
        return { type: 'private', payload: control.payload }
      case 'join-request':
      case 'join-refusal':
      case 'decline':
        // Open-room admission and declined invitations are the gateway's (docs/gateway.md), not the session's.
        throw new GroupError('GROUP_MALFORMED', `a ${control.type} is not a body for a group session`)
    }
  }

  /** The body asking a member for the updates after the state held. */
  syncRequest(): Uint8Array {
    return encodeGroupControl({
      type: 'sync',
      group: this.options.group,
      version: this.heldState?.version ?? 0,
    })
  }

  /** The updates after `version`, as pairwise bodies, for a member of the state held (and the current key). */
  syncReplies(from: Uint8Array, version: number): Promise<Uint8Array[]> {
    return this.serial(async () => {
      const state = this.heldState
      if (!state?.members.has(hex(from)))
        throw new GroupError('NOT_MEMBER', 'only members are sent the chain')
      const replies = packUpdates(await this.updatesAfter(version), this.options.maxMessageBytes)
      // An owner or admin also hands over the current key: the asker may lack it (its package was lost).
      const role = state.members.get(hex(this.options.local.publicKey))?.affiliation
      const held = this.keys.get(state.epoch)
      if (held && (role === 'owner' || role === 'admin'))
        replies.push(encodeGroupControl({ type: 'key', keyPackage: this.packageOf(state.epoch, held) }))
      return replies
    })
  }

  /**
   * A key package from `from` (the envelope's authenticated sender): kept
   * when `from` is an owner or admin of the state held and the package names a
   * state of our chain with its epoch; held back (bounded) when it names a
   * state not reached yet.
   */
  applyKeyPackage(from: Uint8Array, pkg: KeyPackage): Promise<'stored' | 'pending' | 'duplicate'> {
    return this.serial(() => this.takeKeyPackage(from, pkg))
  }

  /** Seals a body for the group in its mode. Throws GroupError NOT_MEMBER, NO_EPOCH_KEY, MESSAGE_TOO_LARGE. */
  seal(body: GroupBody): Promise<SealedGroupMessage> {
    return this.serial(async () => {
      const state = this.requireState()
      this.checkNotDestroyed()
      const local = this.options.local
      if (!state.members.has(hex(local.publicKey)))
        throw new GroupError('NOT_MEMBER', 'not a member of this group')
      const id = this.random(MESSAGE_ID_BYTES)
      const timestamp = Math.max(this.now(), this.record.lastTimestamp + 1)
      const input = {
        header: { group: state.group, epoch: state.epoch, id, timestamp },
        sender: local,
        body: encodeGroupBody(body),
      }
      const mode = state.config.mode
      let message: Uint8Array
      if (mode === 'high') message = sealHigh(input)
      else {
        const key = this.keys.messageKey(state.epoch)
        if (!key) throw new GroupError('NO_EPOCH_KEY', `no key for epoch ${state.epoch} has arrived yet`)
        message = sealNormal(this.backend, key, input, this.random)
      }
      const pairwiseBody = encodeGroupControl({ type: 'message', message })
      if (pairwiseBody.length > this.options.maxMessageBytes)
        throw new GroupError(
          'MESSAGE_TOO_LARGE',
          `a group message of ${pairwiseBody.length} bytes; at most ${this.options.maxMessageBytes} (messaging.maxMessageBytes)`,
        )
      this.record = { ...this.record, lastTimestamp: timestamp }
      await this.options.store.batch([
        this.tables.sessions.putOp(this.key(), this.record),
        ...this.seenOps(local.publicKey, id, timestamp),
      ])
      await this.forgetOldestSeen()
      const recipients = [...state.members.values()]
        .map((m) => m.address)
        .filter((a) => !equal(a, local.publicKey))
      return { id, timestamp, mode, message, pairwiseBody, recipients }
    })
  }

  /**
   * Opens a group message: a member (not banned) of the state held, a time in
   * the window, never opened before, an epoch whose key is held (normal) or a
   * pairwise copy from its own sender (high). Its dedupe entry is stored,
   * with `write`'s records, before this resolves. Throws GroupError.
   */
  open(bytes: Uint8Array, options: OpenOptions = {}): Promise<OpenedGroupMessage> {
    return this.openMessage(bytes, options, false)
  }

  /** `mailbox`: a group mailbox item's message, which an epoch key kept for the mailbox opens too. */
  private openMessage(
    bytes: Uint8Array,
    options: OpenOptions,
    mailbox: boolean,
  ): Promise<OpenedGroupMessage> {
    return this.serial(async () => {
      const message = malformedIfWire(() => decodeGroupMessage(bytes))
      const state = this.checkSender(message)
      this.checkTime(message.timestamp)
      if (await this.tables.seen.has(this.seenKey(message.sender, message.id)))
        throw new GroupError('DUPLICATE', 'this message was opened before')
      const plaintext = this.plaintextOf(message, state, options.via, mailbox)
      const opened: OpenedGroupMessage = {
        group: message.group,
        sender: message.sender,
        id: message.id,
        timestamp: message.timestamp,
        epoch: message.epoch,
        mode: message.mode,
        body: malformedIfWire(() => decodeGroupBody(plaintext)),
      }
      await this.options.store.batch([
        ...this.seenOps(message.sender, message.id, message.timestamp),
        ...(options.write?.(opened) ?? []),
      ])
      await this.forgetOldestSeen()
      return opened
    })
  }

  /**
   * Deletes everything this identity holds of the group — state, chain,
   * keys, dedupe entries — as if it had never been invited (a declined or
   * expired invitation). The session is unusable afterwards.
   */
  forget(): Promise<void> {
    return this.serial(async () => {
      await this.keys.dropAll()
      const ops: BatchOp[] = [this.tables.sessions.delOp(this.key())]
      for (const table of [
        this.tables.updates,
        this.tables.pendingKeys,
        this.tables.seen,
        this.tables.seenByTime,
      ])
        for await (const key of table.keys({ prefix: this.prefix })) ops.push(table.delOp(key))
      await this.options.store.batch(ops)
      this.heldState = undefined
    })
  }

  /** Deletes epoch keys beyond the kept window (forward secrecy) and dedupe entries older than the window. */
  expire(): Promise<void> {
    return this.serial(async () => {
      await this.keys.dropOld()
      const floor = this.now() - this.options.config.dedupeWindowMs
      const ops: BatchOp[] = []
      for await (const key of this.tables.seenByTime.keys({ prefix: this.prefix })) {
        const [time, sender, id] = key.slice(this.prefix.length).split(':')
        if (Number(time) >= floor) break
        ops.push(this.tables.seenByTime.delOp(key), this.tables.seen.delOp(`${this.prefix}${sender}:${id}`))
      }
      if (ops.length) await this.options.store.batch(ops)
      this.seenCount -= ops.length / 2
    })
  }

  // ——— state ———

  private itemKey(epoch: number, mailboxSeed: Uint8Array): Uint8Array {
    return groupMailboxItemKey(this.backend, this.options.group, epoch, mailboxSeed)
  }

  private applyOptions() {
    return { maxMembers: this.options.config.maxMembers, backend: this.backend }
  }

  /** Nothing is sealed, opened or keyed in a destroyed group: GROUP_DESTROYED. */
  private checkNotDestroyed(): void {
    if (this.heldState?.destroyed)
      throw new GroupError('GROUP_DESTROYED', 'this group was destroyed: it takes no more messages or keys')
  }

  /**
   * High mode seals every message once per member and sends each copy
   * directly: a local change may not switch a group above
   * groups.highModeMaxMembers to it, nor grow a high-mode group past it.
   * Changes that leave a larger high-mode group no larger (a kick, a
   * rename) stay allowed; states from others are not checked (their
   * bridges may be configured otherwise).
   */
  private checkHighModeSize(before: GroupState | undefined, after: GroupState): void {
    const cap = this.options.config.highModeMaxMembers
    if (after.config.mode !== 'high' || after.members.size <= cap) return
    const wasHigh = before?.config.mode === 'high'
    if (wasHigh && after.members.size <= before.members.size) return
    throw new GroupError(
      'HIGH_MODE_TOO_LARGE',
      wasHigh
        ? `a high-mode group may have at most ${cap} members (groups.highModeMaxMembers): each message is sealed and sent once per member`
        : `a group of ${after.members.size} members cannot switch to high mode: at most ${cap} (groups.highModeMaxMembers), each message is sealed and sent once per member`,
    )
  }

  private requireState(): GroupState {
    if (!this.heldState) throw new GroupError('NOT_MEMBER', 'no state of this group is held')
    return this.heldState
  }

  private async commitLocal(change: StateChange): Promise<LocalChange> {
    const before = this.heldState
    const state = change.state
    this.checkHighModeSize(before, state)
    const self = this.options.local.publicKey
    // A new epoch's key is drawn now and stored in the same batch as the state, so no crash
    // leaves this bridge in an epoch without its key. High mode uses no shared key.
    const normal = state.config.mode === 'normal'
    const pkg: KeyPackage | undefined =
      normal && change.newEpoch
        ? {
            group: state.group,
            epoch: state.epoch,
            stateVersion: state.version,
            stateHash: state.hash,
            ...drawEpochSecrets(this.random),
          }
        : undefined
    const stored = pkg && state.members.has(hex(self)) ? this.keys.prepare(pkg) : undefined
    await this.persistChanges([change], stored)
    const others = [...state.members.values()].map((m) => m.address).filter((a) => !equal(a, self))
    const addedKeys = new Set(change.added.map((m) => hex(m.address)))
    const known = others.filter((a) => !addedKeys.has(hex(a)))
    const sends: Outgoing[] = []
    const newcomers = change.added.map((m) => m.address).filter((a) => !equal(a, self))
    if (newcomers.length)
      for (const body of packUpdates(await this.updatesAfter(0), this.options.maxMessageBytes))
        sends.push({ to: newcomers, body })
    const told = [...known, ...change.removed]
    if (told.length && before)
      for (const body of packUpdates([change.update], this.options.maxMessageBytes))
        sends.push({ to: told, body })
    if (pkg) {
      if (others.length)
        sends.push({ to: others, body: encodeGroupControl({ type: 'key', keyPackage: pkg }) })
    } else if (normal && newcomers.length) {
      const held = this.keys.get(state.epoch)
      if (held)
        sends.push({
          to: newcomers,
          body: encodeGroupControl({ type: 'key', keyPackage: this.packageOf(state.epoch, held) }),
        })
    }
    return { change, sends }
  }

  private packageOf(epoch: number, k: EpochKeyRecord): KeyPackage {
    const { epochKey, mailboxSeed, stateVersion, stateHash } = k
    return { group: this.options.group, epoch, stateVersion, stateHash, epochKey, mailboxSeed }
  }

  private async persistChanges(
    changes: StateChange[],
    key?: { ops: BatchOp[]; apply: () => void },
  ): Promise<void> {
    const state = changes.at(-1)!.state
    this.record = { ...this.record, snapshot: encodeSnapshot(toSnapshot(state)) }
    await this.options.store.batch([
      this.tables.sessions.putOp(this.key(), this.record),
      ...changes.map((c) => this.tables.updates.putOp(this.key(numberKey(c.state.version)), c.update)),
      ...(key?.ops ?? []),
    ])
    this.heldState = state
    for (const change of changes) this.rememberMembers(change.state)
    if (key) {
      key.apply()
      await this.keys.dropOld()
    }
    // A destroyed group keeps its terminal state (so no stale member revives it) and no key at all.
    const gone = state.destroyed !== undefined || !state.members.has(hex(this.options.local.publicKey))
    if (gone) await this.keys.dropAll()
    if (!gone || state.destroyed) await this.retryPendingKeys(state.version)
  }

  /** An update of our chain seen again (a repeated catch-up): skipped; any other old version is a rollback. */
  private async inChain(bytes: Uint8Array): Promise<boolean> {
    const { version } = malformedIfWire(() => decodeUpdate(bytes))
    if (version >= (this.heldState?.version ?? 0)) return false
    const stored = await this.tables.updates.get(this.key(numberKey(version)))
    return stored !== undefined && equal(stored, bytes)
  }

  private async updatesAfter(version: number): Promise<Uint8Array[]> {
    const out: Uint8Array[] = []
    for await (const [, bytes] of this.tables.updates.entries({
      gt: this.key(numberKey(version)),
      lt: this.key('~'),
    }))
      out.push(bytes)
    return out
  }

  // ——— keys ———

  private async takeKeyPackage(
    from: Uint8Array,
    pkg: KeyPackage,
  ): Promise<'stored' | 'pending' | 'duplicate'> {
    if (!equal(pkg.group, this.options.group))
      throw new GroupError('WRONG_GROUP', 'a key package of another group')
    this.checkNotDestroyed()
    const state = this.heldState
    if (!state || pkg.stateVersion > state.version) return this.holdPending(from, pkg)
    if (!state.members.has(hex(this.options.local.publicKey)))
      throw new GroupError('NOT_MEMBER', 'not a member of this group')
    const update = await this.tables.updates.get(this.key(numberKey(pkg.stateVersion)))
    const named = update && namedState(update, this.backend)
    if (!named || !equal(named.hash, pkg.stateHash) || named.epoch !== pkg.epoch)
      throw new GroupError('STATE_FORK', 'the key package names a state that is not in our chain')
    // The signer of the named update (even one who removed itself), or an owner/admin now.
    const role = state.members.get(hex(from))?.affiliation
    if (role !== 'owner' && role !== 'admin' && !equal(from, named.signer))
      throw new GroupError(
        'NOT_MEMBER',
        'key packages come from the signer of their state or an owner or admin',
      )
    // Older than the kept window: taken only to open group mailbox items, when those keys are kept longer.
    const { keptEpochs, epochKeyRetainMs, mailboxKeyRetainMs } = this.options.config
    if (pkg.epoch < state.epoch - keptEpochs && mailboxKeyRetainMs <= epochKeyRetainMs)
      throw new GroupError('STALE_EPOCH', `epoch ${pkg.epoch} is older than the kept window`)
    const held = this.keys.forMailbox(pkg.epoch)
    if (held) {
      if (equal(held.epochKey, pkg.epochKey) && equal(held.mailboxSeed, pkg.mailboxSeed)) return 'duplicate'
      throw new GroupError('KEY_CONFLICT', `another key for epoch ${pkg.epoch} is held`)
    }
    await this.keys.add(pkg)
    return 'stored'
  }

  /** Held only from members of the state held (anyone, before the first state): the slots are few. */
  private async holdPending(from: Uint8Array, pkg: KeyPackage): Promise<'pending'> {
    if (this.heldState && !this.heldState.members.has(hex(from)))
      throw new GroupError('NOT_MEMBER', 'key packages come from members')
    const held = await this.tables.pendingKeys.count({ prefix: this.prefix })
    if (held >= this.options.config.pendingKeyPackages)
      throw new GroupError('FUTURE_EPOCH', 'too many key packages wait for states not received')
    await this.tables.pendingKeys.put(`${this.key(numberKey(pkg.stateVersion))}:${hex(from)}`, {
      from,
      keyPackage: encodeKeyPackage(pkg),
    })
    return 'pending'
  }

  /** Key packages that waited for a state now held: taken or dropped, never kept again. */
  private async retryPendingKeys(version: number): Promise<void> {
    const ready: [string, Uint8Array, KeyPackage][] = []
    for await (const [key, record] of this.tables.pendingKeys.entries({ prefix: this.prefix })) {
      const pkg = decodeKeyPackage(record.keyPackage)
      if (pkg.stateVersion <= version) ready.push([key, record.from, pkg])
    }
    for (const [key, from, pkg] of ready) {
      await this.tables.pendingKeys.del(key)
      await this.takeKeyPackage(from, pkg).catch(() => undefined)
    }
  }

  // ——— messages ———

  private checkSender(message: GroupMessage): GroupState {
    if (!equal(message.group, this.options.group))
      throw new GroupError('WRONG_GROUP', 'a message of another group')
    const state = this.requireState()
    this.checkNotDestroyed()
    if (!state.members.has(hex(this.options.local.publicKey)))
      throw new GroupError('NOT_MEMBER', 'not a member of this group (any more)')
    const sender = hex(message.sender)
    if (state.banned.has(sender)) throw new GroupError('BANNED', 'the sender is banned from the group')
    if (!state.members.has(sender))
      throw new GroupError('NOT_MEMBER', 'the sender is not a member of the group')
    return state
  }

  private checkTime(timestamp: number): void {
    const now = this.now()
    if (timestamp > now + this.options.config.maxFutureMs)
      throw new GroupError('MESSAGE_TIME', 'the message is stamped too far in the future')
    if (timestamp < this.floor())
      throw new GroupError('MESSAGE_TIME', 'the message is older than the dedupe window')
  }

  private floor(): number {
    return Math.max(this.record.seenFloor, this.now() - this.options.config.dedupeWindowMs)
  }

  private plaintextOf(
    message: GroupMessage,
    state: GroupState,
    via: Uint8Array | undefined,
    mailbox: boolean,
  ): Uint8Array {
    if (message.mode === 'high') {
      if (!via || !equal(via, message.sender))
        throw new GroupError(
          'WRONG_MODE',
          'a high-mode copy comes in a pairwise envelope from its own sender',
        )
      return message.body
    }
    if (state.config.mode === 'high')
      throw new GroupError(
        'WRONG_MODE',
        'a normal-mode message in a high-mode group (no shared key may be used)',
      )
    if (message.epoch > state.epoch)
      throw new GroupError('FUTURE_EPOCH', `epoch ${message.epoch} is ahead of the state held`)
    const key = this.keys.messageKey(message.epoch, { mailbox })
    if (!key) {
      if (message.epoch === state.epoch)
        throw new GroupError('FUTURE_EPOCH', `the key of epoch ${message.epoch} has not arrived yet`)
      throw new GroupError(
        'STALE_EPOCH',
        `no key of epoch ${message.epoch} is held (removed, or past the kept window)`,
      )
    }
    return openNormal(this.backend, key, message)
  }

  private seenKey(sender: Uint8Array, id: Uint8Array): string {
    return `${this.prefix}${hex(sender)}:${hex(id)}`
  }

  private seenOps(sender: Uint8Array, id: Uint8Array, timestamp: number): BatchOp[] {
    this.seenCount++
    return [
      this.tables.seen.putOp(this.seenKey(sender, id), { timestamp }),
      this.tables.seenByTime.putOp(`${this.prefix}${numberKey(timestamp)}:${hex(sender)}:${hex(id)}`, {}),
    ]
  }

  /** Beyond dedupePerGroup ids, the oldest go and the floor rises past them (older messages are refused). */
  private async forgetOldestSeen(): Promise<void> {
    const excess = this.seenCount - this.options.config.dedupePerGroup
    if (excess <= 0) return
    const ops: BatchOp[] = []
    let floor = this.record.seenFloor
    for await (const key of this.tables.seenByTime.keys({ prefix: this.prefix, limit: excess })) {
      const [time, sender, id] = key.slice(this.prefix.length).split(':')
      floor = Math.max(floor, Number(time) + 1)
      ops.push(this.tables.seenByTime.delOp(key), this.tables.seen.delOp(`${this.prefix}${sender}:${id}`))
    }
    this.record = { ...this.record, seenFloor: floor }
    await this.options.store.batch([...ops, this.tables.sessions.putOp(this.key(), this.record)])
    this.seenCount -= ops.length / 2
  }

  // ——— plumbing ———

  private key(suffix?: string): string {
    return suffix === undefined ? this.prefix.slice(0, -1) : `${this.prefix}${suffix}`
  }

  private async reload(): Promise<void> {
    const record = await this.tables.sessions.get(this.key())
    if (record) {
      this.record = record
      this.heldState = fromSnapshot(decodeSnapshot(record.snapshot))
      this.rememberMembers(this.heldState)
    }
    await this.keys.load()
    this.seenCount = await this.tables.seen.count({ prefix: this.prefix })
  }

  private serial<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task)
    this.tail = result.catch(() => undefined)
    return result
  }
}

/** The hash, epoch and signer of a stored update (verified when it was applied). */
function namedState(
  update: Uint8Array,
  backend: CryptoBackend,
): { hash: Uint8Array; epoch: number; signer: Uint8Array } {
  const { epoch, signer } = decodeUpdate(update)
  return { hash: stateHash(update, backend), epoch, signer }
}

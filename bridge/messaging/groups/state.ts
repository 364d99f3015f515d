import type { CryptoBackend } from '../../crypto/backend.js'
import { defaultBackend } from '../../crypto/default-backend.js'
import type { Identity } from '../../crypto/identity.js'
import {
  compareBytes,
  type GroupConfig,
  type GroupDestruction,
  type GroupMember,
  type GroupSnapshot,
} from '../../wire/group-state.js'
import {
  type Affiliation,
  decodeUpdate,
  encodeUpdate,
  type GroupOp,
  type GroupUpdate,
  stateHash,
  type UnsignedGroupUpdate,
  updateSignedBytes,
  ZERO_HASH,
} from '../../wire/group-update.js'
import { GroupError, malformedIfWire } from './errors.js'

/**
 * The group state chain (docs/groups.md "State chain"): a member holds one
 * state and accepts an update only as its valid successor — the next version,
 * built on the held state's hash, signed by the group key or by an owner/admin
 * of the held state, within that signer's rights (XEP-0045 §5.2), leaving a
 * state that keeps every rule. Everything else is refused with a GroupError
 * saying why (a fork, a rollback, a gap to fill first…). A destroyed state
 * (an owner's destroy op) is the chain's end: nothing follows it.
 */
export interface GroupState {
  /** The group key: its address. */
  readonly group: Uint8Array
  readonly version: number
  readonly epoch: number
  /** Hash of the update that made this state (the chain's head). */
  readonly hash: Uint8Array
  readonly config: GroupConfig
  /** Hex address → member. */
  readonly members: ReadonlyMap<string, GroupMember>
  /** Hex addresses. */
  readonly banned: ReadonlySet<string>
  /** Set when an owner destroyed the group (XEP-0045 §10.9): the terminal state. */
  readonly destroyed?: GroupDestruction
}

/** What an update changed, for the session (keys) and the MUC (presence, affiliation changes). */
export interface StateChange {
  state: GroupState
  /** The update's bytes, as they travel (keep them: members behind ask for them). */
  update: Uint8Array
  signer: Uint8Array
  added: GroupMember[]
  removed: Uint8Array[]
  /** Members whose affiliation or nick changed. */
  changed: GroupMember[]
  banned: Uint8Array[]
  unbanned: Uint8Array[]
  configChanged: boolean
  /** The update's reason op ('' without one): why a kick, ban or affiliation change was made. */
  reason: string
  /** The epoch went up: a new epoch key is due from the signer. */
  newEpoch: boolean
  /** This update destroyed the group. */
  destroyed: boolean
}

export interface ApplyOptions {
  /** The local cap (groups.maxMembers): larger states are refused whatever the group's own limit. */
  maxMembers: number
  backend?: CryptoBackend
}

/** The config of a group before its first update sets it. */
export const DEFAULT_GROUP_CONFIG: GroupConfig = {
  name: '',
  description: '',
  membersOnly: true,
  mode: 'normal',
  maxMembers: 1000,
}

export const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')
const unhex = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'hex'))
const equal = (a: Uint8Array, b: Uint8Array): boolean => compareBytes(a, b) === 0

/** Rights of a signer in the previous state: the group key counts as an owner. */
type Rights = Affiliation | 'none'

function rightsOf(state: GroupState | undefined, signer: Uint8Array): Rights {
  if (!state || equal(signer, state.group)) return 'owner'
  return state.members.get(hex(signer))?.affiliation ?? 'none'
}

function refuse(code: 'STATE_NOT_ALLOWED' | 'STATE_INVALID', message: string): never {
  throw new GroupError(code, message)
}

/** A mutable copy of a state that ops change one by one, checking the signer's rights against `before`. */
class Draft {
  readonly config: GroupConfig
  readonly members: Map<string, GroupMember>
  readonly banned: Set<string>
  destroyed: GroupDestruction | undefined
  private readonly touched = new Map<string, GroupOp['op']>()

  constructor(
    private readonly before: GroupState | undefined,
    private readonly signer: Uint8Array,
    private readonly rights: Rights,
  ) {
    this.config = { ...(before?.config ?? DEFAULT_GROUP_CONFIG) }
    this.members = new Map(before?.members)
    this.banned = new Set(before?.banned)
  }

  apply(op: GroupOp): void {
    const key = 'address' in op ? hex(op.address) : `config:${op.op}`
    if (this.destroyed) refuse('STATE_INVALID', 'a destroy is the only op of its update')
    // One op per address and per setting; the one pair allowed is an unban followed by the put that readmits.
    const before = this.touched.get(key)
    if (before !== undefined && !(before === 'unban' && op.op === 'put'))
      refuse('STATE_INVALID', `an update changes ${key} twice`)
    this.touched.set(key, op.op)
    switch (op.op) {
      case 'name':
        this.ownerOnly('rename the group')
        this.config.name = op.name
        return
      case 'description':
        this.ownerOnly('set the description')
        this.config.description = op.description
        return
      case 'membersOnly':
        this.ownerOnly('make the group members-only or open')
        this.config.membersOnly = op.membersOnly
        return
      case 'mode':
        this.ownerOnly('change the security mode')
        this.config.mode = op.mode
        return
      case 'maxMembers':
        this.ownerOnly('set the member limit')
        this.config.maxMembers = op.maxMembers
        return
      case 'put':
        this.put(key, op)
        return
      case 'remove':
        if (!this.members.has(key)) refuse('STATE_INVALID', 'removes an address that is not a member')
        this.mayActOn(key, 'remove')
        this.members.delete(key)
        return
      case 'ban':
        if (this.banned.has(key)) refuse('STATE_INVALID', 'bans an address already banned')
        this.mayActOn(key, 'ban')
        this.members.delete(key)
        this.banned.add(key)
        return
      case 'unban':
        if (!this.banned.has(key)) refuse('STATE_INVALID', 'unbans an address that is not banned')
        if (this.rights !== 'owner' && this.rights !== 'admin')
          refuse('STATE_NOT_ALLOWED', 'only owners and admins unban')
        this.banned.delete(key)
        return
      case 'destroy':
        this.ownerOnly('destroy the group')
        if (this.touched.size > 1) refuse('STATE_INVALID', 'a destroy is the only op of its update')
        this.destroyed = { reason: op.reason, alternate: op.alternate }
        break
      case 'reason':
        return
    }
  }

  private put(key: string, op: Extract<GroupOp, { op: 'put' }>): void {
    if (this.banned.has(key)) refuse('STATE_INVALID', 'adds a banned address (unban it first)')
    const current = this.before?.members.get(key)?.affiliation
    const self = equal(op.address, this.signer)
    const nickOnly = self && current === op.affiliation
    const adminMay =
      this.rights === 'admin' &&
      (current === undefined || current === 'member') &&
      op.affiliation === 'member'
    if (!(this.rights === 'owner' || adminMay || nickOnly))
      refuse(
        'STATE_NOT_ALLOWED',
        this.rights === 'admin'
          ? 'admins add and change members only; owners grant and revoke admin and owner'
          : 'only owners and admins change the member list (a member may change its own nick)',
      )
    this.members.set(key, { address: op.address, affiliation: op.affiliation, nick: op.nick })
  }

  /** Owners act on anyone; admins on members and outsiders, never on owners or admins. */
  private mayActOn(key: string, what: string): void {
    const target = this.before?.members.get(key)?.affiliation
    if (this.rights === 'owner') return
    if (this.rights === 'admin' && (target === undefined || target === 'member')) return
    refuse(
      'STATE_NOT_ALLOWED',
      `${this.rights === 'admin' ? 'admins may not' : 'only owners and admins'} ${what} ${target ? `${target}s` : 'outsiders'}`,
    )
  }

  private ownerOnly(what: string): void {
    if (this.rights !== 'owner') refuse('STATE_NOT_ALLOWED', `only owners ${what}`)
  }
}

function checkRules(
  draft: Draft,
  before: GroupState | undefined,
  update: GroupUpdate,
  maxMembers: number,
): void {
  const members = [...draft.members.values()]
  if (!members.some((m) => m.affiliation === 'owner'))
    refuse('STATE_INVALID', 'the group would have no owner left')
  const cap = Math.min(draft.config.maxMembers, maxMembers)
  if (members.length > cap) refuse('STATE_INVALID', `${members.length} members; at most ${cap}`)
  if (draft.banned.size > 0xffff) refuse('STATE_INVALID', 'too many banned addresses')
  if (update.ops.length > 0 && update.ops.every((op) => op.op === 'reason'))
    refuse('STATE_INVALID', 'a reason alone changes nothing')
  const lost = before ? [...before.members.keys()].some((k) => !draft.members.has(k)) : false
  const toNormal = before?.config.mode === 'high' && draft.config.mode === 'normal'
  const previous = before?.epoch ?? 0
  if (update.epoch !== previous && update.epoch !== previous + 1)
    refuse('STATE_INVALID', `epoch ${update.epoch} after ${previous}: it stays or goes up by one`)
  if ((lost || toNormal || update.ops.length === 0 || !before) && update.epoch === previous)
    refuse(
      'STATE_INVALID',
      'removing a member, switching to normal mode or an empty update starts a new epoch',
    )
}

/** The change between two states, member by member. */
function diff(
  before: GroupState | undefined,
  after: GroupState,
  update: Uint8Array,
  { signer, ops }: GroupUpdate,
): StateChange {
  const old = before?.members ?? new Map<string, GroupMember>()
  const oldBanned = before?.banned ?? new Set<string>()
  const added: GroupMember[] = []
  const changed: GroupMember[] = []
  for (const [k, m] of after.members) {
    const was = old.get(k)
    if (!was) added.push(m)
    else if (was.affiliation !== m.affiliation || was.nick !== m.nick) changed.push(m)
  }
  const config = before?.config ?? DEFAULT_GROUP_CONFIG
  return {
    state: after,
    update,
    signer,
    added,
    removed: [...old.keys()].filter((k) => !after.members.has(k)).map(unhex),
    changed,
    banned: [...after.banned].filter((k) => !oldBanned.has(k)).map(unhex),
    unbanned: [...oldBanned].filter((k) => !after.banned.has(k)).map(unhex),
    configChanged: (Object.keys(config) as (keyof GroupConfig)[]).some((k) => config[k] !== after.config[k]),
    reason: ops.find((op) => op.op === 'reason')?.reason ?? '',
    newEpoch: after.epoch !== (before?.epoch ?? 0),
    destroyed: after.destroyed !== undefined,
  }
}

/** Where an update stands against the held state, before any signature is checked. */
function position(held: GroupState | undefined, update: GroupUpdate, hash: Uint8Array): 'next' | 'duplicate' {
  const version = held?.version ?? 0
  if (held && !equal(update.group, held.group))
    throw new GroupError('WRONG_GROUP', 'an update of another group')
  if (held && update.version === held.version && equal(hash, held.hash)) return 'duplicate'
  if (held?.destroyed)
    throw new GroupError(
      'STATE_DESTROYED',
      `the group was destroyed at version ${held.version}: nothing follows`,
    )
  if (update.version <= version)
    throw new GroupError(
      'STATE_ROLLBACK',
      `version ${update.version} is not after the version held, ${version}`,
    )
  if (update.version > version + 1)
    throw new GroupError(
      'STATE_GAP',
      `version ${update.version} after ${version}: the updates between are missing`,
      {
        heldVersion: version,
      },
    )
  if (!equal(update.prevHash, held?.hash ?? ZERO_HASH))
    throw new GroupError('STATE_FORK', `version ${update.version} is not built on the state held`)
  return 'next'
}

/**
 * The state after `updateBytes`, or 'duplicate' when it is the update that
 * made `held`. `held` undefined: the update must be the group's first,
 * signed by the group key. Throws GroupError otherwise.
 */
export function applyUpdate(
  held: GroupState | undefined,
  updateBytes: Uint8Array,
  options: ApplyOptions,
): StateChange | 'duplicate' {
  const backend = options.backend ?? defaultBackend
  const update = malformedIfWire(() => decodeUpdate(updateBytes))
  const hash = stateHash(updateBytes, backend)
  if (position(held, update, hash) === 'duplicate') return 'duplicate'
  if (!held && !equal(update.signer, update.group))
    throw new GroupError('STATE_NOT_ALLOWED', 'the first state of a group is signed by the group key')
  if (!backend.ed25519Verify(update.signer, updateSignedBytes(update), update.signature))
    throw new GroupError('STATE_SIGNATURE', `the signature of version ${update.version} does not verify`)
  const rights = rightsOf(held, update.signer)
  if (rights === 'none') throw new GroupError('STATE_NOT_ALLOWED', 'the signer is not a member of the group')
  const draft = new Draft(held, update.signer, rights)
  for (const op of update.ops) draft.apply(op)
  checkRules(draft, held, update, options.maxMembers)
  const state: GroupState = {
    group: update.group,
    version: update.version,
    epoch: update.epoch,
    hash,
    config: draft.config,
    members: draft.members,
    banned: draft.banned,
    ...(draft.destroyed ? { destroyed: draft.destroyed } : {}),
  }
  return diff(held, state, updateBytes, update)
}

/**
 * Applies consecutive updates (a catch-up); duplicates at the start are
 * skipped. Returns one change per applied update; throws at the first refused
 * one (the states before it stand: the last change's state).
 */
export function applyUpdates(
  held: GroupState | undefined,
  updates: Uint8Array[],
  options: ApplyOptions,
): StateChange[] {
  const changes: StateChange[] = []
  let state = held
  for (const bytes of updates) {
    const result = applyUpdate(state, bytes, options)
    if (result === 'duplicate') continue
    changes.push(result)
    state = result.state
  }
  return changes
}

/** Signs an update with `seed` (the group seed, or an owner's/admin's identity seed). */
export function signUpdate(
  seed: Uint8Array,
  unsigned: UnsignedGroupUpdate,
  backend: CryptoBackend = defaultBackend,
): Uint8Array {
  return encodeUpdate({ ...unsigned, signature: backend.ed25519Sign(seed, updateSignedBytes(unsigned)) })
}

/**
 * The next update of `held`, signed by `signer` (an Identity, or the group's
 * own key pair as { seed, publicKey }), checked by applying it. The epoch goes
 * up when the rules require it or `newEpoch` asks. Throws GroupError when the
 * change is not allowed.
 */
export function proposeUpdate(
  held: GroupState,
  signer: Pick<Identity, 'seed' | 'publicKey'>,
  ops: GroupOp[],
  options: ApplyOptions & { newEpoch?: boolean },
): StateChange {
  const loses = ops.some((op) => (op.op === 'remove' || op.op === 'ban') && held.members.has(hex(op.address)))
  const toNormal = held.config.mode === 'high' && ops.some((op) => op.op === 'mode' && op.mode === 'normal')
  const bump = options.newEpoch || loses || toNormal || ops.length === 0
  const unsigned: UnsignedGroupUpdate = {
    group: held.group,
    version: held.version + 1,
    epoch: held.epoch + (bump ? 1 : 0),
    prevHash: held.hash,
    signer: signer.publicKey,
    ops,
  }
  const change = applyUpdate(held, signUpdate(signer.seed, unsigned, options.backend), options)
  if (change === 'duplicate') throw new GroupError('STATE_INVALID', 'an update identical to the state held')
  return change
}

/** The group's first update (version 1, epoch 1), signed by the group key: `ops` set the config and the first owner. */
export function genesisUpdate(
  groupKey: Pick<Identity, 'seed' | 'publicKey'>,
  ops: GroupOp[],
  options: ApplyOptions,
): StateChange {
  const unsigned: UnsignedGroupUpdate = {
    group: groupKey.publicKey,
    version: 1,
    epoch: 1,
    prevHash: ZERO_HASH,
    signer: groupKey.publicKey,
    ops,
  }
  const change = applyUpdate(undefined, signUpdate(groupKey.seed, unsigned, options.backend), options)
  if (change === 'duplicate')
    throw new GroupError('STATE_INVALID', 'unreachable: a first state is never a duplicate')
  return change
}

/** The state in its wire form (members and bans sorted), for storage. */
export function toSnapshot(state: GroupState): GroupSnapshot {
  return {
    group: state.group,
    version: state.version,
    epoch: state.epoch,
    hash: state.hash,
    config: { ...state.config },
    members: [...state.members.values()].sort((a, b) => compareBytes(a.address, b.address)),
    banned: [...state.banned].sort().map(unhex),
    ...(state.destroyed ? { destroyed: { ...state.destroyed } } : {}),
  }
}

export function fromSnapshot(s: GroupSnapshot): GroupState {
  return {
    group: s.group,
    version: s.version,
    epoch: s.epoch,
    hash: s.hash,
    config: { ...s.config },
    members: new Map(s.members.map((m) => [hex(m.address), m])),
    banned: new Set(s.banned.map(hex)),
    ...(s.destroyed ? { destroyed: { ...s.destroyed } } : {}),
  }
}

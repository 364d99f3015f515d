import type { CryptoBackend } from '../crypto/backend.js'
import { defaultBackend } from '../crypto/default-backend.js'
import { DOMAIN } from '../crypto/domains.js'
import { signedBytes } from '../crypto/sign.js'
import {
  GROUP_FORMAT_VERSION,
  GroupWireError,
  HASH_BYTES,
  KEY_BYTES,
  Reader,
  SIGNATURE_BYTES,
  Writer,
} from './group-bytes.js'

/**
 * A group's membership travels as a chain of signed updates (docs/protocol.md
 * "Groups" → "State updates"): each names the hash of the state before it and
 * lists the changes (ops) that make the next state. The first (version 1,
 * previous hash zero) is signed by the group key; every later one by the group
 * key or an owner/admin of the previous state (checked in messaging/groups/state.ts).
 *
 *   format (1) = 1 ‖ group key (32) ‖ version (4) ‖ epoch (4) ‖ previous hash (32)
 *   ‖ signer (32) ‖ op count (2) ‖ ops ‖ signature (64)
 *
 * signature = Ed25519 of len ‖ "paranoim/v1/group-update" ‖ every byte before it;
 * state hash = SHA-256(len ‖ "paranoim/v1/group-state-hash" ‖ the whole update).
 */
export const AFFILIATIONS = ['owner', 'admin', 'member'] as const
export type Affiliation = (typeof AFFILIATIONS)[number]
export const GROUP_MODES = ['normal', 'high'] as const
export type GroupMode = (typeof GROUP_MODES)[number]

/** Caps of the format (bytes of UTF-8); the config may set lower ones. */
export const GROUP_LIMITS = {
  name: 128,
  description: 1024,
  nick: 64,
  /** The reason a destroy gives (XEP-0045 §10.9 <reason/>). */
  destroyReason: 1024,
  /** The alternate venue a destroy names: a bare JID (RFC 7622: localpart and domainpart ≤ 1023 bytes each). */
  alternateVenue: 2047,
  /** A reason op's text (XEP-0045 sets no limit; this is the description's). */
  reason: 1024,
  /** One update, signature included: fits one messenger body of the smallest messaging.maxMessageBytes with room. */
  updateBytes: 60 * 1024,
} as const

export type GroupOp =
  | { op: 'name'; name: string }
  | { op: 'description'; description: string }
  | { op: 'membersOnly'; membersOnly: boolean }
  | { op: 'mode'; mode: GroupMode }
  | { op: 'maxMembers'; maxMembers: number }
  /** Adds a member, or changes its affiliation or nick. */
  | { op: 'put'; address: Uint8Array; affiliation: Affiliation; nick: string }
  | { op: 'remove'; address: Uint8Array }
  /** Bans an address (removing it when it is a member). */
  | { op: 'ban'; address: Uint8Array }
  | { op: 'unban'; address: Uint8Array }
  /**
   * Ends the group (XEP-0045 §10.9), owners only: terminal, no update may
   * follow. `reason` and `alternate` (a room JID) are '' when not given.
   */
  | { op: 'destroy'; reason: string; alternate: string }
  /**
   * Why the update's other ops were made (XEP-0045 `<reason/>` of a kick, ban
   * or affiliation change): the rooms show it, the state does not keep it.
   */
  | { op: 'reason'; reason: string }

export interface UnsignedGroupUpdate {
  /** The group's Ed25519 public key: its address. */
  group: Uint8Array
  /** 1 for the first state, +1 per update. */
  version: number
  /** The epoch of the new state: never lower than the previous one's. */
  epoch: number
  /** Hash of the previous state; all zero for version 1. */
  prevHash: Uint8Array
  /** The group key, or the address of the owner/admin who signs. */
  signer: Uint8Array
  ops: GroupOp[]
}

export interface GroupUpdate extends UnsignedGroupUpdate {
  signature: Uint8Array
}

const OP = {
  name: 1,
  description: 2,
  membersOnly: 3,
  mode: 4,
  maxMembers: 5,
  put: 6,
  remove: 7,
  ban: 8,
  unban: 9,
  destroy: 10,
  reason: 11,
} as const
const OP_NAMES = new Map<number, GroupOp['op']>(
  Object.entries(OP).map(([name, code]) => [code, name as GroupOp['op']]),
)
const FIXED_BYTES = 1 + KEY_BYTES + 4 + 4 + HASH_BYTES + KEY_BYTES + 2
/** The smallest update: no ops. */
export const MIN_UPDATE_BYTES = FIXED_BYTES + SIGNATURE_BYTES
export const ZERO_HASH = new Uint8Array(HASH_BYTES)

export const affiliationCode = (a: Affiliation): number => AFFILIATIONS.indexOf(a) + 1
export const modeCode = (m: GroupMode): number => GROUP_MODES.indexOf(m) + 1

export function affiliationOf(code: number): Affiliation {
  const a = AFFILIATIONS[code - 1]
  if (!a) throw new GroupWireError('GROUP_TYPE', `unknown affiliation ${code}`)
  return a
}

export function modeOf(code: number): GroupMode {
  const m = GROUP_MODES[code - 1]
  if (!m) throw new GroupWireError('GROUP_TYPE', `unknown group mode ${code}`)
  return m
}

function writeOp(w: Writer, op: GroupOp): void {
  const code = OP[op.op]
  if (code === undefined) throw new GroupWireError('GROUP_TYPE', `unknown op ${String(op.op)}`)
  w.u8(code)
  switch (op.op) {
    case 'name':
      w.text8(op.name, GROUP_LIMITS.name, 'name')
      return
    case 'description':
      w.text16(op.description, GROUP_LIMITS.description, 'description')
      return
    case 'membersOnly':
      w.u8(op.membersOnly ? 1 : 0)
      return
    case 'mode':
      w.u8(modeCode(op.mode), 'mode')
      return
    case 'maxMembers':
      if (op.maxMembers < 1) throw new GroupWireError('GROUP_FIELD', 'max members must be at least 1')
      w.u16(op.maxMembers, 'max members')
      return
    case 'put':
      w.fixed(op.address, KEY_BYTES, 'member address')
        .u8(affiliationCode(op.affiliation), 'affiliation')
        .text8(op.nick, GROUP_LIMITS.nick, 'nick')
      return
    case 'remove':
    case 'ban':
    case 'unban':
      w.fixed(op.address, KEY_BYTES, 'address')
      return
    case 'destroy':
      w.text16(op.reason, GROUP_LIMITS.destroyReason, 'destroy reason').text16(
        op.alternate,
        GROUP_LIMITS.alternateVenue,
        'alternate venue',
      )
      return
    case 'reason':
      if (op.reason === '') throw new GroupWireError('GROUP_FIELD', 'an empty reason (leave the op out)')
      w.text16(op.reason, GROUP_LIMITS.reason, 'reason')
      return
  }
}

function readOp(r: Reader): GroupOp {
  const code = r.u8('op type')
  const op = OP_NAMES.get(code)
  switch (op) {
    case 'name':
      return { op, name: r.text8(GROUP_LIMITS.name, 'name') }
    case 'description':
      return { op, description: r.text16(GROUP_LIMITS.description, 'description') }
    case 'membersOnly': {
      const flag = r.u8('members-only flag')
      if (flag > 1) throw new GroupWireError('GROUP_FIELD', `members-only flag ${flag}`)
      return { op, membersOnly: flag === 1 }
    }
    case 'mode':
      return { op, mode: modeOf(r.u8('mode')) }
    case 'maxMembers': {
      const maxMembers = r.u16('max members')
      if (maxMembers < 1) throw new GroupWireError('GROUP_FIELD', 'max members 0')
      return { op, maxMembers }
    }
    case 'put':
      return {
        op,
        address: r.take(KEY_BYTES, 'member address'),
        affiliation: affiliationOf(r.u8('affiliation')),
        nick: r.text8(GROUP_LIMITS.nick, 'nick'),
      }
    case 'remove':
    case 'ban':
    case 'unban':
      return { op, address: r.take(KEY_BYTES, 'address') }
    case 'destroy':
      return {
        op,
        reason: r.text16(GROUP_LIMITS.destroyReason, 'destroy reason'),
        alternate: r.text16(GROUP_LIMITS.alternateVenue, 'alternate venue'),
      }
    case 'reason': {
      const reason = r.text16(GROUP_LIMITS.reason, 'reason')
      if (reason === '') throw new GroupWireError('GROUP_FIELD', 'an empty reason')
      return { op, reason }
    }
    default:
      throw new GroupWireError('GROUP_TYPE', `unknown op type ${code}`)
  }
}

/** The bytes the signer signs (the update without its signature), before the domain prefix. */
export function encodeUnsignedUpdate(update: UnsignedGroupUpdate): Uint8Array {
  const w = new Writer()
    .u8(GROUP_FORMAT_VERSION)
    .fixed(update.group, KEY_BYTES, 'group key')
    .u32(update.version, 'version')
    .u32(update.epoch, 'epoch')
    .fixed(update.prevHash, HASH_BYTES, 'previous hash')
    .fixed(update.signer, KEY_BYTES, 'signer')
    .u16(update.ops.length, 'op count')
  for (const op of update.ops) writeOp(w, op)
  if (w.length + SIGNATURE_BYTES > GROUP_LIMITS.updateBytes)
    throw new GroupWireError(
      'GROUP_LENGTH',
      `an update of ${w.length + SIGNATURE_BYTES} bytes; at most ${GROUP_LIMITS.updateBytes} (split its ops)`,
    )
  return w.finish()
}

/** What the signature covers: len ‖ DOMAIN.groupUpdate ‖ the unsigned update. */
export function updateSignedBytes(update: UnsignedGroupUpdate): Uint8Array {
  return signedBytes(DOMAIN.groupUpdate, encodeUnsignedUpdate(update))
}

export function encodeUpdate(update: GroupUpdate): Uint8Array {
  return new Writer()
    .bytes(encodeUnsignedUpdate(update))
    .fixed(update.signature, SIGNATURE_BYTES, 'signature')
    .finish()
}

/** Strict: size bounds first, known version, every op well formed, nothing after the signature. */
export function decodeUpdate(bytes: Uint8Array): GroupUpdate {
  if (
    !(bytes instanceof Uint8Array) ||
    bytes.length < MIN_UPDATE_BYTES ||
    bytes.length > GROUP_LIMITS.updateBytes
  )
    throw new GroupWireError(
      'GROUP_LENGTH',
      `a group update is ${MIN_UPDATE_BYTES}..${GROUP_LIMITS.updateBytes} bytes, got ${bytes?.length}`,
    )
  const r = new Reader(bytes.subarray(0, bytes.length - SIGNATURE_BYTES), 'a group update')
  const format = r.u8('format')
  if (format !== GROUP_FORMAT_VERSION)
    throw new GroupWireError('GROUP_VERSION', `unknown group update format ${format}`)
  const group = r.take(KEY_BYTES, 'group key')
  const version = r.u32('version')
  if (version === 0) throw new GroupWireError('GROUP_FIELD', 'group state version 0')
  const epoch = r.u32('epoch')
  const prevHash = r.take(HASH_BYTES, 'previous hash')
  const signer = r.take(KEY_BYTES, 'signer')
  const count = r.u16('op count')
  const ops: GroupOp[] = []
  for (let i = 0; i < count; i++) ops.push(readOp(r))
  r.end()
  return {
    group,
    version,
    epoch,
    prevHash,
    signer,
    ops,
    signature: bytes.slice(bytes.length - SIGNATURE_BYTES),
  }
}

/** The hash of the state an update makes: SHA-256(len ‖ DOMAIN.groupStateHash ‖ update bytes). */
export function stateHash(updateBytes: Uint8Array, backend: CryptoBackend = defaultBackend): Uint8Array {
  return backend.sha256(signedBytes(DOMAIN.groupStateHash, updateBytes))
}

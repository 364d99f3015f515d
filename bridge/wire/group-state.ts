import { GROUP_FORMAT_VERSION, GroupWireError, HASH_BYTES, KEY_BYTES, Reader, Writer } from './group-bytes.js'
import {
  type Affiliation,
  affiliationCode,
  affiliationOf,
  GROUP_LIMITS,
  type GroupMode,
  modeCode,
  modeOf,
} from './group-update.js'

/**
 * A full group state as a member keeps it (docs/protocol.md "Groups" →
 * "State snapshot"): the result of applying the update chain. Stored by each
 * member; never signed itself (its hash is the hash of the update that made it).
 *
 *   format (1) = 1 ‖ group key (32) ‖ version (4) ‖ epoch (4) ‖ hash (32)
 *   ‖ name len (1) ‖ name ‖ description len (2) ‖ description
 *   ‖ flags (1, bit 0 members-only, bit 1 destroyed) ‖ mode (1) ‖ max members (2)
 *   ‖ member count (2) ‖ members ‖ banned count (2) ‖ banned
 *   [destroyed: reason len (2) ‖ reason ‖ alternate len (2) ‖ alternate venue]
 *   member = address (32) ‖ affiliation (1) ‖ nick len (1) ‖ nick
 *
 * Members and banned addresses are in strictly increasing byte order, so one
 * state has one encoding.
 */
export interface GroupConfig {
  name: string
  description: string
  /** Only members may join (XEP-0045 members-only); otherwise anyone not banned may ask to. */
  membersOnly: boolean
  mode: GroupMode
  maxMembers: number
}

export interface GroupMember {
  address: Uint8Array
  affiliation: Affiliation
  nick: string
}

export interface GroupSnapshot {
  group: Uint8Array
  version: number
  epoch: number
  hash: Uint8Array
  config: GroupConfig
  /** Sorted by address. */
  members: GroupMember[]
  /** Sorted. */
  banned: Uint8Array[]
  /** Set by a destroy op (terminal): its reason and alternate venue ('' when not given). */
  destroyed?: GroupDestruction
}

export interface GroupDestruction {
  reason: string
  alternate: string
}

const MEMBERS_ONLY = 0x01
const DESTROYED = 0x02

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!
  return a.length - b.length
}

function checkSorted(addresses: Uint8Array[], what: string): void {
  for (let i = 1; i < addresses.length; i++)
    if (compareBytes(addresses[i - 1]!, addresses[i]!) >= 0)
      throw new GroupWireError('GROUP_FIELD', `${what} are not in strictly increasing order`)
}

export function encodeSnapshot(s: GroupSnapshot): Uint8Array {
  checkSorted(
    s.members.map((m) => m.address),
    'members',
  )
  checkSorted(s.banned, 'banned addresses')
  const w = new Writer()
    .u8(GROUP_FORMAT_VERSION)
    .fixed(s.group, KEY_BYTES, 'group key')
    .u32(s.version, 'version')
    .u32(s.epoch, 'epoch')
    .fixed(s.hash, HASH_BYTES, 'hash')
    .text8(s.config.name, GROUP_LIMITS.name, 'name')
    .text16(s.config.description, GROUP_LIMITS.description, 'description')
    .u8((s.config.membersOnly ? MEMBERS_ONLY : 0) | (s.destroyed ? DESTROYED : 0))
    .u8(modeCode(s.config.mode), 'mode')
    .u16(s.config.maxMembers, 'max members')
    .u16(s.members.length, 'member count')
  for (const m of s.members)
    w.fixed(m.address, KEY_BYTES, 'member address')
      .u8(affiliationCode(m.affiliation), 'affiliation')
      .text8(m.nick, GROUP_LIMITS.nick, 'nick')
  w.u16(s.banned.length, 'banned count')
  for (const b of s.banned) w.fixed(b, KEY_BYTES, 'banned address')
  if (s.destroyed)
    w.text16(s.destroyed.reason, GROUP_LIMITS.destroyReason, 'destroy reason').text16(
      s.destroyed.alternate,
      GROUP_LIMITS.alternateVenue,
      'alternate venue',
    )
  return w.finish()
}

/** Strict: known format, every field in range, sorted lists, nothing after the last. */
export function decodeSnapshot(bytes: Uint8Array): GroupSnapshot {
  if (!(bytes instanceof Uint8Array)) throw new GroupWireError('GROUP_LENGTH', 'a group state must be bytes')
  const r = new Reader(bytes, 'a group state')
  const format = r.u8('format')
  if (format !== GROUP_FORMAT_VERSION)
    throw new GroupWireError('GROUP_VERSION', `unknown group state format ${format}`)
  const group = r.take(KEY_BYTES, 'group key')
  const version = r.u32('version')
  const epoch = r.u32('epoch')
  const hash = r.take(HASH_BYTES, 'hash')
  const name = r.text8(GROUP_LIMITS.name, 'name')
  const description = r.text16(GROUP_LIMITS.description, 'description')
  const flags = r.u8('flags')
  if (flags & ~(MEMBERS_ONLY | DESTROYED))
    throw new GroupWireError('GROUP_FIELD', `unknown group flags ${flags}`)
  const mode = modeOf(r.u8('mode'))
  const maxMembers = r.u16('max members')
  const memberCount = r.u16('member count')
  const members: GroupMember[] = []
  for (let i = 0; i < memberCount; i++)
    members.push({
      address: r.take(KEY_BYTES, 'member address'),
      affiliation: affiliationOf(r.u8('affiliation')),
      nick: r.text8(GROUP_LIMITS.nick, 'nick'),
    })
  const bannedCount = r.u16('banned count')
  const banned: Uint8Array[] = []
  for (let i = 0; i < bannedCount; i++) banned.push(r.take(KEY_BYTES, 'banned address'))
  const destroyed =
    flags & DESTROYED
      ? {
          reason: r.text16(GROUP_LIMITS.destroyReason, 'destroy reason'),
          alternate: r.text16(GROUP_LIMITS.alternateVenue, 'alternate venue'),
        }
      : undefined
  r.end()
  checkSorted(
    members.map((m) => m.address),
    'members',
  )
  checkSorted(banned, 'banned addresses')
  return {
    group,
    version,
    epoch,
    hash,
    config: { name, description, membersOnly: (flags & MEMBERS_ONLY) !== 0, mode, maxMembers },
    members,
    banned,
    ...(destroyed ? { destroyed } : {}),
  }
}

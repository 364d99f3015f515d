import { GroupWireError, KEY_BYTES, Reader, textBytes, Writer } from './group-bytes.js'
import { decodeGroupMessage, decodeKeyPackage, encodeKeyPackage, type KeyPackage } from './group-message.js'
import { decodeUpdate, GROUP_LIMITS, MIN_UPDATE_BYTES } from './group-update.js'
import { decodeStanzaPayload, PayloadError } from './stanza-payload.js'

/**
 * What a member sends another member about a group, as one pairwise messenger
 * body (docs/protocol.md "Groups" → "Pairwise group bodies"). The first byte
 * 0x67 ('g') tells it from a gateway stanza payload (first byte 0x01).
 *
 *   0x67 ‖ type (1) ‖ data
 *   1 updates    count (2, ≥ 1) ‖ count × [ length (4) ‖ update ]   consecutive versions
 *   2 key        key package (137)
 *   3 message    group message (a high-mode copy, or a normal one sent directly)
 *   4 sync       group key (32) ‖ version held (4): "send me the updates after it"
 *   5 join-request  group key (32) ‖ nick (1..64 bytes, to the end): "admit me to this open room"
 *   6 join-refusal  group key (32) ‖ reason (1): why an owner/admin did not admit
 *   7 private    group key (32) ‖ stanza payload (kind message): a MUC private
 *                message (XEP-0045 §7.5) from one occupant to another
 *   8 decline    group key (32) ‖ reason length (2) ‖ reason (UTF-8, ≤ 1024): the
 *                invitee turns the invitation down (XEP-0045 §7.8.2), to its inviter
 *
 * Types 16..31 are left to the fan-out (bridge/wire/group-fanout.ts).
 */
export const GROUP_BODY_MAGIC = 0x67
const TYPE = {
  updates: 1,
  key: 2,
  message: 3,
  sync: 4,
  'join-request': 5,
  'join-refusal': 6,
  private: 7,
  decline: 8,
} as const

/** Why a join request was refused (docs/protocol.md "Open rooms"). */
export const JOIN_REFUSALS = {
  'members-only': 1,
  banned: 2,
  full: 3,
  'rate-limited': 4,
  /** This identity cannot admit (not an owner or admin, or it holds no such group): ask another. */
  'not-admitting': 5,
} as const
export type JoinRefusal = keyof typeof JOIN_REFUSALS
const REFUSAL_OF = new Map<number, JoinRefusal>(
  Object.entries(JOIN_REFUSALS).map(([name, code]) => [code, name as JoinRefusal]),
)

export type GroupControl =
  | { type: 'updates'; updates: Uint8Array[] }
  | { type: 'key'; keyPackage: KeyPackage }
  | { type: 'message'; message: Uint8Array }
  | { type: 'sync'; group: Uint8Array; version: number }
  /** `payload`: the gateway's stanza payload bytes (wire/stanza-payload.ts), checked to be a message. */
  | { type: 'private'; group: Uint8Array; payload: Uint8Array }
  | { type: 'join-request'; group: Uint8Array; nick: string }
  | { type: 'join-refusal'; group: Uint8Array; reason: JoinRefusal }
  /** `reason`: '' when the invitee gave none. */
  | { type: 'decline'; group: Uint8Array; reason: string }

/** Whether a messenger body is a group body (and not a stanza payload). */
export const isGroupControl = (body: Uint8Array): boolean => body.length >= 2 && body[0] === GROUP_BODY_MAGIC

export function encodeGroupControl(c: GroupControl): Uint8Array {
  const w = new Writer().u8(GROUP_BODY_MAGIC).u8(TYPE[c.type] ?? 0xff, 'type')
  switch (c.type) {
    case 'updates':
      if (c.updates.length < 1)
        throw new GroupWireError('GROUP_FIELD', 'an updates body carries at least one')
      w.u16(c.updates.length, 'update count')
      for (const u of c.updates) w.u32(u.length).bytes(u)
      break
    case 'key':
      w.bytes(encodeKeyPackage(c.keyPackage))
      break
    case 'message':
      w.bytes(c.message)
      break
    case 'sync':
      w.fixed(c.group, KEY_BYTES, 'group key').u32(c.version, 'version')
      break
    case 'private':
      w.fixed(c.group, KEY_BYTES, 'group key').bytes(privatePayload(c.payload))
      break
    case 'join-request': {
      const nick = textBytes(c.nick, GROUP_LIMITS.nick, 'nick')
      if (nick.length === 0) throw new GroupWireError('GROUP_FIELD', 'a join request names a nick')
      w.fixed(c.group, KEY_BYTES, 'group key').bytes(nick)
      break
    }
    case 'join-refusal':
      w.fixed(c.group, KEY_BYTES, 'group key').u8(JOIN_REFUSALS[c.reason] ?? 0, 'reason')
      break
    case 'decline':
      w.fixed(c.group, KEY_BYTES, 'group key').text16(c.reason, GROUP_LIMITS.reason, 'decline reason')
      break
    default:
      throw new GroupWireError('GROUP_TYPE', 'unknown group body type')
  }
  return w.finish()
}

/** Strict; the updates and the message inside are decoded too (each update's bytes are kept for its hash). */
export function decodeGroupControl(bytes: Uint8Array): GroupControl {
  const r = new Reader(bytes, 'a group body')
  if (r.u8('magic') !== GROUP_BODY_MAGIC) throw new GroupWireError('GROUP_TYPE', 'not a group body')
  const type = r.u8('type')
  switch (type) {
    case TYPE.updates: {
      const count = r.u16('update count')
      if (count < 1) throw new GroupWireError('GROUP_FIELD', 'an updates body without updates')
      const updates: Uint8Array[] = []
      for (let i = 0; i < count; i++) {
        const length = r.u32('update length')
        if (length < MIN_UPDATE_BYTES || length > GROUP_LIMITS.updateBytes)
          throw new GroupWireError('GROUP_LENGTH', `update ${i} of ${length} bytes`)
        const update = r.take(length, 'update')
        decodeUpdate(update)
        updates.push(update)
      }
      r.end()
      return { type: 'updates', updates }
    }
    case TYPE.key:
      return { type: 'key', keyPackage: decodeKeyPackage(r.rest()) }
    case TYPE.message: {
      const message = r.rest()
      decodeGroupMessage(message)
      return { type: 'message', message }
    }
    case TYPE.sync: {
      const sync = { type: 'sync' as const, group: r.take(KEY_BYTES, 'group key'), version: r.u32('version') }
      r.end()
      return sync
    }
    case TYPE.private:
      return { type: 'private', group: r.take(KEY_BYTES, 'group key'), payload: privatePayload(r.rest()) }
    case TYPE['join-request']: {
      const group = r.take(KEY_BYTES, 'group key')
      if (r.remaining === 0) throw new GroupWireError('GROUP_LENGTH', 'a join request without a nick')
      return { type: 'join-request', group, nick: r.text(r.remaining, GROUP_LIMITS.nick, 'nick') }
    }
    case TYPE['join-refusal']: {
      const group = r.take(KEY_BYTES, 'group key')
      const code = r.u8('reason')
      r.end()
      const reason = REFUSAL_OF.get(code)
      if (!reason) throw new GroupWireError('GROUP_TYPE', `unknown join refusal reason ${code}`)
      return { type: 'join-refusal', group, reason }
    }
    case TYPE.decline: {
      const decline = {
        type: 'decline' as const,
        group: r.take(KEY_BYTES, 'group key'),
        reason: r.text16(GROUP_LIMITS.reason, 'decline reason'),
      }
      r.end()
      return decline
    }
    default:
      throw new GroupWireError('GROUP_TYPE', `unknown group body type ${type}`)
  }
}

/** The group a decoded body is about (the session to hand it to). */
export function controlGroup(c: GroupControl): Uint8Array {
  switch (c.type) {
    case 'updates':
      return c.updates[0]!.slice(1, 1 + KEY_BYTES)
    case 'key':
      return c.keyPackage.group
    case 'message':
      return c.message.slice(2, 2 + KEY_BYTES)
    case 'sync':
    case 'private':
    case 'join-request':
    case 'join-refusal':
    case 'decline':
      return c.group
  }
}

/** A private message's payload must be a message stanza payload (a wrong one is a group body error). */
function privatePayload(payload: Uint8Array): Uint8Array {
  try {
    if (decodeStanzaPayload(payload).kind === 'message') return payload
  } catch (err) {
    if (!(err instanceof PayloadError)) throw err
    throw new GroupWireError('GROUP_FIELD', `a private message's payload: ${err.message}`)
  }
  throw new GroupWireError('GROUP_FIELD', "a private message's payload is not a message")
}

/** Splits consecutive updates into as few `updates` bodies as fit `maxBodyBytes` each (messaging.maxMessageBytes). */
export function packUpdates(updates: Uint8Array[], maxBodyBytes: number): Uint8Array[] {
  const bodies: Uint8Array[] = []
  let batch: Uint8Array[] = []
  let size = 4
  for (const u of updates) {
    if (batch.length > 0 && (size + 4 + u.length > maxBodyBytes || batch.length === 0xffff)) {
      bodies.push(encodeGroupControl({ type: 'updates', updates: batch }))
      batch = []
      size = 4
    }
    batch.push(u)
    size += 4 + u.length
  }
  if (batch.length) bodies.push(encodeGroupControl({ type: 'updates', updates: batch }))
  return bodies
}

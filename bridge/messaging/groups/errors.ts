import { ParanoimError } from '../../errors.js'
import { GroupWireError } from '../../wire/group-bytes.js'

export type GroupErrorCode =
  /** The bytes do not decode (a GroupWireError is the cause). */
  | 'GROUP_MALFORMED'
  /** About another group than this one. */
  | 'WRONG_GROUP'
  /** A state update whose signature does not verify under the signer it names. */
  | 'STATE_SIGNATURE'
  /** The signer may not make this change (XEP-0045 affiliation rules, docs/groups.md). */
  | 'STATE_NOT_ALLOWED'
  /** The new state breaks a rule: no owner left, a banned member, too many members, an op repeated, an epoch not advanced… */
  | 'STATE_INVALID'
  /** An older version than the one held, or the same version with other contents. */
  | 'STATE_ROLLBACK'
  /** The next version, but not built on the state held (its previous hash differs): a fork. */
  | 'STATE_FORK'
  /** An update after the state that destroyed the group (terminal: XEP-0045 §10.9). */
  | 'STATE_DESTROYED'
  /** A message, key or send for a group that was destroyed. */
  | 'GROUP_DESTROYED'
  /** A version beyond the next: the updates in between are needed first (send a sync). */
  | 'STATE_GAP'
  /** The sender of a message or key package is not a member (or not an admin) of the state held. */
  | 'NOT_MEMBER'
  /** The sender is banned from the group. */
  | 'BANNED'
  /** A message of an epoch whose key was deleted or never held (older than the kept window). */
  | 'STALE_EPOCH'
  /** A message or key package of an epoch or state this member has not reached yet. */
  | 'FUTURE_EPOCH'
  /** seal(): no key for the current epoch has arrived yet. */
  | 'NO_EPOCH_KEY'
  /** A message's signature or AEAD tag does not verify: forged or altered. */
  | 'MESSAGE_AUTH'
  /** The same (sender, id) was opened before. */
  | 'DUPLICATE'
  /** A timestamp before the dedupe window or beyond the allowed clock skew. */
  | 'MESSAGE_TIME'
  /** A high-mode copy in a normal group, a normal message in a high one, or a copy not from its sender. */
  | 'WRONG_MODE'
  /** seal(): the message would be longer than messaging.maxMessageBytes. */
  | 'MESSAGE_TOO_LARGE'
  /** A key package that contradicts the key already held for its epoch. */
  | 'KEY_CONFLICT'
  /** A local change would make a high-mode group larger than groups.highModeMaxMembers. */
  | 'HIGH_MODE_TOO_LARGE'

/** Why a group state, key package or message was refused. The group code throws only this (and store errors). */
export class GroupError extends ParanoimError {
  declare readonly code: GroupErrorCode
  /** STATE_GAP: the version held (the sync asks for what follows it). */
  readonly heldVersion: number | undefined

  constructor(code: GroupErrorCode, message: string, options?: { cause?: unknown; heldVersion?: number }) {
    super(code, message, options)
    this.heldVersion = options?.heldVersion
  }
}

/** Runs a decoder; its GroupWireError becomes a GroupError GROUP_MALFORMED (the cause kept). */
export function malformedIfWire<T>(decode: () => T): T {
  try {
    return decode()
  } catch (cause) {
    if (cause instanceof GroupWireError) throw new GroupError('GROUP_MALFORMED', cause.message, { cause })
    throw cause
  }
}

import { ParanoimError } from '../errors.js'

export type MessengerErrorCode =
  /** The body is longer than `messaging.maxMessageBytes` (or, ephemeral, than one frame). */
  | 'MESSAGE_TOO_LARGE'
  /** `messaging.outboxPerContact` messages already wait for this contact. */
  | 'OUTBOX_FULL'
  /** The sender is not an identity unlocked on this bridge (addIdentity). */
  | 'UNKNOWN_IDENTITY'
  /** The recipient is not an address (a valid Ed25519 public key). */
  | 'RECIPIENT_INVALID'
  /** The stream to this contact used all 2^32 sequence numbers. */
  | 'STREAM_EXHAUSTED'
  /** The Messenger was stopped. */
  | 'STOPPED'

/** Why Messenger.send refused a message. Nothing was stored when it throws. */
export class MessengerError extends ParanoimError {
  declare readonly code: MessengerErrorCode

  constructor(code: MessengerErrorCode, message: string) {
    super(code, message)
  }
}

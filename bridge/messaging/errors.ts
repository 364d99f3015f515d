import { ParanoimError } from '../errors.js'

export type EnvelopeErrorCode =
  /** The bytes are not an envelope: wrong length or version, or a sealed field that decodes to nonsense. */
  | 'ENVELOPE_MALFORMED'
  /** A tag did not verify: tampered, sealed for another recipient, or not made by the sender it names. */
  | 'ENVELOPE_AUTH'
  /** The sender key it names (or the prekey it announces) is not a usable curve point. */
  | 'ENVELOPE_SENDER'
  /** Sealed to a prekey of ours whose private half we do not hold (deleted at expiry, or never ours). */
  | 'PREKEY_UNKNOWN'
  /** seal(): the frame is longer than MAX_FRAME_BYTES. */
  | 'FRAME_TOO_LARGE'
  /** seal(): the recipient address is not a usable Ed25519 public key. */
  | 'RECIPIENT_INVALID'

/** Why an envelope could not be sealed or opened. `open` throws only this (and store errors). */
export class EnvelopeError extends ParanoimError {
  declare readonly code: EnvelopeErrorCode
  /**
   * PREKEY_UNKNOWN only: the address the envelope claims to come from. NOT
   * authenticated (the proof is in the part we cannot open); good for a log line
   * or a rate-limited nudge, never for delivery.
   */
  readonly claimedSender: Uint8Array | undefined

  constructor(
    code: EnvelopeErrorCode,
    message: string,
    options?: { cause?: unknown; claimedSender?: Uint8Array },
  ) {
    super(code, message, options)
    this.claimedSender = options?.claimedSender
  }
}

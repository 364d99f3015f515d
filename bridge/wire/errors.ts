import { ParanoimError } from '../errors.js'

export type WireErrorCode =
  /** The datagram or field is shorter or longer than its format allows. */
  | 'WIRE_LENGTH'
  /** An overlay packet begins with 0x64, the first byte reserved for KRPC. */
  | 'WIRE_FIRST_BYTE'
  /** A link id is zero or begins with 0x64. */
  | 'WIRE_LINK_ID'
  /** Padding that must be zero is not. */
  | 'WIRE_PADDING'
  /** A 64-bit counter beyond 2^53 − 1 (no sender ever gets there: links rekey long before). */
  | 'WIRE_COUNTER'
  /** An unknown message type byte. */
  | 'WIRE_TYPE'

/** Bytes from the network that do not match their format. Decoders throw only this. */
export class WireError extends ParanoimError {
  declare readonly code: WireErrorCode

  constructor(code: WireErrorCode, message: string) {
    super(code, message)
  }
}

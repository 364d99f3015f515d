import { ParanoimError } from '../errors.js'

/**
 * Errors of the crypto layer. Every public function asserts its inputs and
 * throws one of these, never a library's own error, so callers can branch on
 * the type and users read a specific message.
 */
export class CryptoError extends ParanoimError {
  constructor(message: string, code = 'CRYPTO_INVALID_INPUT', options?: { cause?: unknown }) {
    super(code, message, options)
  }
}

/** An AEAD open failed: wrong key, wrong nonce, wrong associated data or tampered ciphertext. */
export class AeadError extends CryptoError {
  constructor(message = 'decryption failed: wrong key or tampered data') {
    super(message, 'AEAD_FAILED')
  }
}

/** The password does not open this sealed private key. */
export class WrongPasswordError extends CryptoError {
  constructor() {
    super('wrong password', 'WRONG_PASSWORD')
  }
}

/** A sealed private key blob is malformed (short, unknown magic/version/KDF, parameters out of range). */
export class KeyBlobError extends CryptoError {
  constructor(message: string) {
    super(`invalid key blob: ${message}`, 'KEY_BLOB_INVALID')
  }
}

export type AddressErrorCode = 'ADDRESS_LENGTH' | 'ADDRESS_CHARACTER' | 'ADDRESS_CHECKSUM' | 'ADDRESS_VERSION'

export class AddressError extends CryptoError {
  declare readonly code: AddressErrorCode

  constructor(code: AddressErrorCode, message: string) {
    super(message, code)
  }
}

export type BackupErrorCode =
  /** The text/payload/file is not a ParanoIM key backup at all (or an unsupported version of one). */
  | 'BACKUP_NOT_BACKUP'
  /** A text line cannot be read (no number, no check characters, wrong number of characters, bad character). */
  | 'BACKUP_LINE_MALFORMED'
  /** A text line's check characters do not match its data: a typo in that line. */
  | 'BACKUP_LINE_CHECK'
  /** A numbered text line is absent (or the final line is). */
  | 'BACKUP_LINE_MISSING'
  /** A line number appears twice. */
  | 'BACKUP_LINE_DUPLICATE'
  /** Every line checks out but the whole-backup CRC-32 does not. */
  | 'BACKUP_CHECKSUM'
  | 'BACKUP_QR_MISSING'
  | 'BACKUP_QR_DUPLICATE'
  | 'BACKUP_QR_CORRUPT'
  | 'BACKUP_QR_MIXED'
  /** The backup file is not in the expected format. */
  | 'BACKUP_FILE_FORMAT'

export class BackupError extends CryptoError {
  declare readonly code: BackupErrorCode

  constructor(code: BackupErrorCode, message: string) {
    super(message, code)
  }
}

import { concatBytes } from '@noble/hashes/utils.js'
import { assertBytes } from './assert.js'
import { BASE32_ALPHABET, base32Decode, base32Encode } from './base32.js'
import { crc16CcittFalse } from './crc.js'
import { AddressError } from './errors.js'

/**
 * Address = base32(publicKey(32) ‖ checksum(2) ‖ version(1)): 35 bytes, exactly
 * 56 lowercase characters. checksum = CRC-16/CCITT-FALSE(publicKey ‖ version),
 * big-endian. A CRC-16 catches every burst of ≤ 16 bits, so every
 * single-character change (≤ 5 contiguous bits) is caught by construction; see
 * docs/protocol.md "Addresses" for the characters that straddle fields.
 */
export const ADDRESS_VERSION = 0x01
export const ADDRESS_LENGTH = 56

function checksum(publicKey: Uint8Array, version: number): number {
  return crc16CcittFalse(concatBytes(publicKey, Uint8Array.of(version)))
}

export function encodeAddress(publicKey: Uint8Array): string {
  assertBytes(publicKey, 'publicKey', 32)
  const crc = checksum(publicKey, ADDRESS_VERSION)
  return base32Encode(concatBytes(publicKey, Uint8Array.of(crc >> 8, crc & 0xff, ADDRESS_VERSION)))
}

/**
 * The public key of an address. Surrounding whitespace is ignored, case too.
 * Checked in this order, each with its own AddressError code: length,
 * characters, version, checksum. Strict: no `@domain` (callers split JIDs).
 */
export function parseAddress(text: string): Uint8Array {
  if (typeof text !== 'string') throw new AddressError('ADDRESS_LENGTH', 'address must be a string')
  const trimmed = text.trim()
  if (trimmed.length !== ADDRESS_LENGTH) {
    throw new AddressError(
      'ADDRESS_LENGTH',
      `address must be ${ADDRESS_LENGTH} characters, got ${trimmed.length}`,
    )
  }
  const lower = trimmed.toLowerCase()
  for (let i = 0; i < lower.length; i++) {
    if (!BASE32_ALPHABET.includes(lower[i]!)) {
      throw new AddressError(
        'ADDRESS_CHARACTER',
        `address has an invalid character ${JSON.stringify(trimmed[i])} at position ${i + 1} (allowed: a–z, 2–7)`,
      )
    }
  }
  const raw = base32Decode(lower)! // 56 valid characters always decode to 35 bytes
  const version = raw[34]!
  if (version !== ADDRESS_VERSION) {
    throw new AddressError(
      'ADDRESS_VERSION',
      `address version ${version} is not supported (expected ${ADDRESS_VERSION})`,
    )
  }
  const publicKey = raw.slice(0, 32)
  if (((raw[32]! << 8) | raw[33]!) !== checksum(publicKey, version)) {
    throw new AddressError('ADDRESS_CHECKSUM', 'address checksum does not match (typo?)')
  }
  return publicKey
}

export function isAddress(text: string): boolean {
  try {
    parseAddress(text)
    return true
  } catch {
    return false
  }
}

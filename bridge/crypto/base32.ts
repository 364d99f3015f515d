import { base32nopad } from '@scure/base'

/**
 * RFC 4648 §6 base32 without padding (@scure/base), lowercase on output.
 * Decoding accepts either case and refuses non-zero trailing bits, so every
 * byte string has exactly one text form. Returns undefined instead of
 * throwing: each caller turns that into its own specific error.
 */
export const BASE32_ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567'

/** Value 0–31 of a base32 character (either case), or -1. */
export function base32Value(char: string): number {
  return BASE32_ALPHABET.indexOf(char.toLowerCase())
}

export function base32Encode(data: Uint8Array): string {
  return base32nopad.encode(data).toLowerCase()
}

export function base32Decode(text: string): Uint8Array | undefined {
  try {
    return base32nopad.decode(text.toUpperCase())
  } catch {
    return undefined
  }
}

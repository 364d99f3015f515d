import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js'
import type { CryptoBackend } from '../../bridge/crypto/backend.js'
import { nativeBackend } from '../../bridge/crypto/native.js'
import { nobleBackend } from '../../bridge/crypto/noble.js'

/** Every known-answer test runs against both backends. */
export const backends: readonly CryptoBackend[] = [nativeBackend, nobleBackend]

export const hex = (h: string): Uint8Array => hexToBytes(h.replace(/\s+/g, ''))
export const toHex = bytesToHex
export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s)

import { chacha20, chacha20poly1305 } from '@noble/ciphers/chacha.js'
import { ed25519, x25519 as nobleX25519 } from '@noble/curves/ed25519.js'
import { hkdf } from '@noble/hashes/hkdf.js'
import { hmac } from '@noble/hashes/hmac.js'
import { scryptAsync } from '@noble/hashes/scrypt.js'
import { sha256, sha512 } from '@noble/hashes/sha2.js'
import { randomBytes } from '@noble/hashes/utils.js'
import { assertBytes, assertInteger } from './assert.js'
import type { CryptoBackend, ScryptParams } from './backend.js'
import {
  checkAeadArgs,
  checkHkdfArgs,
  checkScryptArgs,
  checkSealed,
  checkStreamArgs,
  isAllZero,
  LOW_ORDER_MESSAGE,
  scryptMemory,
} from './checks.js'
import { AeadError, CryptoError } from './errors.js'

/**
 * Pure-JS backend on @noble/* (audited, constant-time where it matters). No
 * node: imports: this file is bundled for the browser.
 */

function ed25519Verify(pub: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (!(pub instanceof Uint8Array) || pub.length !== 32) return false
  if (!(message instanceof Uint8Array) || !(signature instanceof Uint8Array) || signature.length !== 64)
    return false
  try {
    // zip215: false = RFC 8032 / FIPS 186-5 rules, as OpenSSL applies them.
    return ed25519.verify(signature, message, pub, { zip215: false })
  } catch {
    return false
  }
}

function x25519(priv: Uint8Array, pub: Uint8Array): Uint8Array {
  assertBytes(priv, 'privateKey', 32)
  assertBytes(pub, 'publicKey', 32)
  let shared: Uint8Array
  try {
    shared = nobleX25519.getSharedSecret(priv, pub)
  } catch (cause) {
    throw new CryptoError(LOW_ORDER_MESSAGE, 'CRYPTO_LOW_ORDER', { cause })
  }
  if (isAllZero(shared)) throw new CryptoError(LOW_ORDER_MESSAGE, 'CRYPTO_LOW_ORDER')
  return shared
}

function open(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad?: Uint8Array): Uint8Array {
  checkAeadArgs(key, nonce, sealed, aad, 'sealed')
  checkSealed(sealed)
  try {
    return chacha20poly1305(key, nonce, aad).decrypt(sealed)
  } catch {
    throw new AeadError()
  }
}

async function scrypt(password: Uint8Array, salt: Uint8Array, params: ScryptParams): Promise<Uint8Array> {
  checkScryptArgs(password, salt, params)
  const { logN, r, p, dkLen } = params
  return scryptAsync(password, salt, { N: 2 ** logN, r, p, dkLen, maxmem: scryptMemory(params) + 2 ** 24 })
}

export const nobleBackend: CryptoBackend = {
  name: 'noble',
  randomBytes(n) {
    assertInteger(n, 'n', 0, 2 ** 16)
    return randomBytes(n)
  },
  sha256(data) {
    assertBytes(data, 'data')
    return sha256(data)
  },
  sha512(data) {
    assertBytes(data, 'data')
    return sha512(data)
  },
  hmacSha256(key, data) {
    assertBytes(key, 'key')
    assertBytes(data, 'data')
    return hmac(sha256, key, data)
  },
  hkdfSha256(ikm, salt, info, length) {
    checkHkdfArgs(ikm, salt, info, length)
    return hkdf(sha256, ikm, salt, info, length)
  },
  ed25519PublicKey(seed) {
    assertBytes(seed, 'seed', 32)
    return ed25519.getPublicKey(seed)
  },
  ed25519Sign(seed, message) {
    assertBytes(seed, 'seed', 32)
    assertBytes(message, 'message')
    return ed25519.sign(message, seed)
  },
  ed25519Verify,
  x25519PublicKey(priv) {
    assertBytes(priv, 'privateKey', 32)
    return nobleX25519.getPublicKey(priv)
  },
  x25519,
  chacha20(key, nonce, data, counter = 0) {
    checkStreamArgs(key, nonce, data, counter)
    return chacha20(key, nonce, data, undefined, counter)
  },
  chacha20poly1305Seal(key, nonce, plaintext, aad) {
    checkAeadArgs(key, nonce, plaintext, aad, 'plaintext')
    return chacha20poly1305(key, nonce, aad).encrypt(plaintext)
  },
  chacha20poly1305Open: open,
  scrypt,
}

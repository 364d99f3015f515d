import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  hkdfSync,
  type KeyObject,
  randomBytes,
  scrypt,
  sign,
  timingSafeEqual,
  verify,
} from 'node:crypto'
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
  TAG_LENGTH,
} from './checks.js'
import { AeadError, CryptoError } from './errors.js'

/**
 * node:crypto (OpenSSL). Raw 32-byte Ed25519/X25519 keys enter Node as JWK
 * (RFC 8037 OKP): OpenSSL builds those straight from the raw bytes, ten times
 * faster than parsing the equivalent PKCS#8/SPKI DER. Node derives the public
 * part of a private JWK from `d` and ignores `x`.
 */
type Curve = 'Ed25519' | 'X25519'

/** A Uint8Array view of a Buffer (same memory), so results compare equal to the noble backend's. */
const bytes = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength)

const b64url = (raw: Uint8Array): string =>
  Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64url')

/**
 * Private KeyObjects of recently used key arrays. Identities sign with the same
 * seed array again and again; the copy detects a caller that changed the
 * array's contents since (then the key is rebuilt).
 */
const privateKeys = new WeakMap<Uint8Array, { raw: Uint8Array; curve: Curve; key: KeyObject }>()

function privateKey(curve: Curve, raw: Uint8Array): KeyObject {
  const hit = privateKeys.get(raw)
  if (hit && hit.curve === curve && timingSafeEqual(hit.raw, raw)) return hit.key
  const key = createPrivateKey({ key: { kty: 'OKP', crv: curve, d: b64url(raw), x: '' }, format: 'jwk' })
  privateKeys.set(raw, { raw: raw.slice(), curve, key })
  return key
}

const publicKey = (curve: Curve, raw: Uint8Array): KeyObject =>
  createPublicKey({ key: { kty: 'OKP', crv: curve, x: b64url(raw) }, format: 'jwk' })

const rawPublicKey = (key: KeyObject): Uint8Array => {
  const x = createPublicKey(key).export({ format: 'jwk' }).x
  return bytes(Buffer.from(x ?? '', 'base64url'))
}

function randomBytesNative(n: number): Uint8Array {
  assertInteger(n, 'n', 0, 2 ** 16)
  return bytes(randomBytes(n))
}

function digest(algorithm: 'sha256' | 'sha512', data: Uint8Array): Uint8Array {
  assertBytes(data, 'data')
  return bytes(createHash(algorithm).update(data).digest())
}

function hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
  assertBytes(key, 'key')
  assertBytes(data, 'data')
  return bytes(createHmac('sha256', key).update(data).digest())
}

function hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  checkHkdfArgs(ikm, salt, info, length)
  return new Uint8Array(hkdfSync('sha256', ikm, salt, info, length))
}

function ed25519PublicKey(seed: Uint8Array): Uint8Array {
  assertBytes(seed, 'seed', 32)
  return rawPublicKey(privateKey('Ed25519', seed))
}

function ed25519Sign(seed: Uint8Array, message: Uint8Array): Uint8Array {
  assertBytes(seed, 'seed', 32)
  assertBytes(message, 'message')
  return bytes(sign(null, message, privateKey('Ed25519', seed)))
}

function ed25519Verify(pub: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (!(pub instanceof Uint8Array) || pub.length !== 32) return false
  if (!(message instanceof Uint8Array) || !(signature instanceof Uint8Array) || signature.length !== 64)
    return false
  try {
    return verify(null, message, publicKey('Ed25519', pub), signature)
  } catch {
    return false // a public key that is not a curve point
  }
}

function x25519PublicKey(priv: Uint8Array): Uint8Array {
  assertBytes(priv, 'privateKey', 32)
  return rawPublicKey(privateKey('X25519', priv))
}

function x25519(priv: Uint8Array, pub: Uint8Array): Uint8Array {
  assertBytes(priv, 'privateKey', 32)
  assertBytes(pub, 'publicKey', 32)
  let shared: Uint8Array
  try {
    shared = bytes(
      diffieHellman({ privateKey: privateKey('X25519', priv), publicKey: publicKey('X25519', pub) }),
    )
  } catch (cause) {
    // OpenSSL itself refuses an all-zero result; report it like the noble backend does.
    throw new CryptoError(LOW_ORDER_MESSAGE, 'CRYPTO_LOW_ORDER', { cause })
  }
  if (isAllZero(shared)) throw new CryptoError(LOW_ORDER_MESSAGE, 'CRYPTO_LOW_ORDER')
  return shared
}

/** OpenSSL's "chacha20" takes a 16-byte IV: block counter (4, little-endian) ‖ nonce (12). */
function chacha20(key: Uint8Array, nonce: Uint8Array, data: Uint8Array, counter = 0): Uint8Array {
  checkStreamArgs(key, nonce, data, counter)
  const iv = Buffer.alloc(16)
  iv.writeUInt32LE(counter, 0)
  iv.set(nonce, 4)
  const cipher = createCipheriv('chacha20', key, iv)
  return bytes(Buffer.concat([cipher.update(data), cipher.final()]))
}

function chacha20poly1305Seal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad?: Uint8Array) {
  checkAeadArgs(key, nonce, plaintext, aad, 'plaintext')
  const cipher = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG_LENGTH })
  if (aad) cipher.setAAD(aad, { plaintextLength: plaintext.length })
  return bytes(Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]))
}

function chacha20poly1305Open(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad?: Uint8Array) {
  checkAeadArgs(key, nonce, sealed, aad, 'sealed')
  checkSealed(sealed)
  const split = sealed.length - TAG_LENGTH
  const decipher = createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG_LENGTH })
  decipher.setAuthTag(sealed.subarray(split))
  if (aad) decipher.setAAD(aad, { plaintextLength: split })
  const plaintext = decipher.update(sealed.subarray(0, split))
  try {
    decipher.final()
  } catch {
    plaintext.fill(0)
    throw new AeadError()
  }
  return bytes(plaintext)
}

async function scryptNative(
  password: Uint8Array,
  salt: Uint8Array,
  params: ScryptParams,
): Promise<Uint8Array> {
  checkScryptArgs(password, salt, params)
  const { logN, r, p, dkLen } = params
  // Node refuses anything above 32 MiB unless maxmem is raised; checkScryptArgs already capped it.
  const maxmem = scryptMemory(params) + 2 ** 24
  return new Promise((resolve, reject) => {
    scrypt(password, salt, dkLen, { N: 2 ** logN, r, p, maxmem }, (err, key) => {
      if (err) reject(new CryptoError(`scrypt failed: ${err.message}`, 'CRYPTO_KDF', { cause: err }))
      else resolve(bytes(key))
    })
  })
}

export const nativeBackend: CryptoBackend = {
  name: 'native',
  randomBytes: randomBytesNative,
  sha256: (data) => digest('sha256', data),
  sha512: (data) => digest('sha512', data),
  hmacSha256,
  hkdfSha256,
  ed25519PublicKey,
  ed25519Sign,
  ed25519Verify,
  x25519PublicKey,
  x25519,
  chacha20,
  chacha20poly1305Seal,
  chacha20poly1305Open,
  scrypt: scryptNative,
}

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { CryptoError } from '../../bridge/crypto/errors.js'
import { backends, hex, toHex, utf8 } from './helpers.js'

for (const backend of backends) {
  describe(`RFC 5869 HKDF-SHA256 and RFC 4231 HMAC-SHA256 (${backend.name})`, () => {
    it('RFC 5869 A.1 (test case 1)', () => {
      const okm = backend.hkdfSha256(
        hex('0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b'),
        hex('000102030405060708090a0b0c'),
        hex('f0f1f2f3f4f5f6f7f8f9'),
        42,
      )
      assert.equal(
        toHex(okm),
        '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865',
      )
    })

    it('RFC 5869 A.1 PRK = HMAC-SHA256(salt, IKM)', () => {
      const prk = backend.hmacSha256(
        hex('000102030405060708090a0b0c'),
        hex('0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b'),
      )
      assert.equal(toHex(prk), '077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5')
    })

    it('FIPS 180-4 SHA-256 / SHA-512 of "abc"', () => {
      assert.equal(
        toHex(backend.sha256(utf8('abc'))),
        'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
      )
      assert.equal(
        toHex(backend.sha512(utf8('abc'))),
        'ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f',
      )
    })

    it('refuses a length beyond 255·32 bytes', () => {
      assert.throws(
        () => backend.hkdfSha256(new Uint8Array(32), new Uint8Array(0), new Uint8Array(0), 8161),
        CryptoError,
      )
    })
  })
}

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { CryptoError } from '../../bridge/crypto/errors.js'
import { backends, toHex, utf8 } from './helpers.js'

// RFC 7914 §12, the two small vectors.
for (const backend of backends) {
  describe(`RFC 7914 scrypt (${backend.name})`, () => {
    it('scrypt("", "", N=16, r=1, p=1, dkLen=64)', async () => {
      const key = await backend.scrypt(new Uint8Array(0), new Uint8Array(0), {
        logN: 4,
        r: 1,
        p: 1,
        dkLen: 64,
      })
      assert.equal(
        toHex(key),
        '77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906',
      )
    })

    it('scrypt("password", "NaCl", N=1024, r=8, p=16, dkLen=64)', async () => {
      const key = await backend.scrypt(utf8('password'), utf8('NaCl'), { logN: 10, r: 8, p: 16, dkLen: 64 })
      assert.equal(
        toHex(key),
        'fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640',
      )
    })

    it('refuses parameters that would need more than 4 GiB before allocating anything', async () => {
      await assert.rejects(
        backend.scrypt(utf8('x'), utf8('y'), { logN: 22, r: 16, p: 1, dkLen: 32 }),
        /more than 4 GiB/,
      )
      await assert.rejects(
        backend.scrypt(utf8('x'), utf8('y'), { logN: 23, r: 1, p: 1, dkLen: 32 }),
        CryptoError,
      )
    })
  })
}

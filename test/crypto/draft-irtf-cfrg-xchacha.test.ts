import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { AeadError } from '../../bridge/crypto/errors.js'
import { hchacha20, xchachaOpen, xchachaSeal } from '../../bridge/crypto/xchacha.js'
import { backends, hex, toHex, utf8 } from './helpers.js'

describe('draft-irtf-cfrg-xchacha-03', () => {
  it('§2.2.1 HChaCha20 test vector', () => {
    const key = hex('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f')
    const nonce = hex('000000090000004a0000000031415927')
    assert.equal(
      toHex(hchacha20(key, nonce)),
      '82413b4227b27bfed30e42508a877d73a0f9e4d58a74a853c12ec41326d3ecdc',
    )
  })

  // §A.3.1: AEAD_XChaCha20_Poly1305 example.
  const key = hex('808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f')
  const nonce = hex('404142434445464748494a4b4c4d4e4f5051525354555657')
  const aad = hex('50515253c0c1c2c3c4c5c6c7')
  const plaintext = utf8(
    "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.",
  )
  const sealed =
    'bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b4522f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff921f9664c97637da9768812f615c68b13b52e' +
    'c0875924c1c7987947deafd8780acf49'

  for (const backend of backends) {
    it(`§A.3.1 AEAD_XChaCha20_Poly1305 seal and open (${backend.name})`, () => {
      assert.equal(toHex(xchachaSeal(key, nonce, plaintext, aad, backend)), sealed)
      assert.deepEqual(xchachaOpen(key, nonce, hex(sealed), aad, backend), plaintext)
      const tampered = hex(sealed)
      tampered[tampered.length - 1]! ^= 1
      assert.throws(() => xchachaOpen(key, nonce, tampered, aad, backend), AeadError)
      const otherNonce = nonce.slice()
      otherNonce[20]! ^= 1 // a byte of the part that is not fed to HChaCha20
      assert.throws(() => xchachaOpen(key, otherNonce, hex(sealed), aad, backend), AeadError)
    })
  }

  it('refuses a 12-byte nonce with a CryptoError', () => {
    assert.throws(() => xchachaSeal(key, nonce.subarray(0, 12), plaintext), /nonce must be 24 bytes, got 12/)
  })
})

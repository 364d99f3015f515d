import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { AeadError, CryptoError } from '../../bridge/crypto/errors.js'
import { backends, hex, toHex, utf8 } from './helpers.js'

// RFC 8439 §2.8.2: AEAD_CHACHA20_POLY1305 example.
const key = hex('808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f')
const nonce = hex('070000004041424344454647')
const aad = hex('50515253c0c1c2c3c4c5c6c7')
const plaintext = utf8(
  "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.",
)
const ciphertext =
  'd31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc3ff4def08e4b7a9de576d26586cec64b6116'
const tag = '1ae10b594f09e26a7e902ecbd0600691'

for (const backend of backends) {
  describe(`RFC 8439 §2.8.2 ChaCha20-Poly1305 (${backend.name})`, () => {
    it('seals to the published ciphertext and tag', () => {
      assert.equal(toHex(backend.chacha20poly1305Seal(key, nonce, plaintext, aad)), ciphertext + tag)
    })

    it('opens the published ciphertext', () => {
      assert.deepEqual(backend.chacha20poly1305Open(key, nonce, hex(ciphertext + tag), aad), plaintext)
    })

    it('throws AeadError on a tampered byte, a wrong AAD or a missing AAD', () => {
      const sealed = hex(ciphertext + tag)
      sealed[10]! ^= 0x80
      assert.throws(() => backend.chacha20poly1305Open(key, nonce, sealed, aad), AeadError)
      assert.throws(
        () => backend.chacha20poly1305Open(key, nonce, hex(ciphertext + tag), aad.subarray(1)),
        AeadError,
      )
      assert.throws(() => backend.chacha20poly1305Open(key, nonce, hex(ciphertext + tag)), AeadError)
    })

    it('refuses wrong key/nonce lengths and short input with a CryptoError', () => {
      assert.throws(() => backend.chacha20poly1305Seal(key.subarray(1), nonce, plaintext), CryptoError)
      assert.throws(() => backend.chacha20poly1305Seal(key, nonce.subarray(1), plaintext), CryptoError)
      assert.throws(() => backend.chacha20poly1305Open(key, nonce, new Uint8Array(15)), /at least 16 bytes/)
    })
  })
}

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { CryptoError } from '../../bridge/crypto/errors.js'
import { nativeBackend } from '../../bridge/crypto/native.js'
import { backends, hex, toHex, utf8 } from '../crypto/helpers.js'

// RFC 8439 §2.4.2: ChaCha20 encryption example (initial block counter 1).
const key = hex('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f')
const nonce = hex('000000000000004a00000000')
const plaintext = utf8(
  "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.",
)
const ciphertext =
  '6e2e359a2568f98041ba0728dd0d6981e97e7aec1d4360c20a27afccfd9fae0bf91b65c5524733ab8f593dabcd62b3571639d624e65152ab8f530c359f0861d807ca0dbf500d6a6156a38e088a22b65e52bc514d16ccf806818ce91ab77937365af90bbf74a35be6b40b8eedf2785e42874d'

for (const backend of backends) {
  describe(`RFC 8439 §2.4.2 ChaCha20 (${backend.name})`, () => {
    it('encrypts to the published ciphertext with counter 1', () => {
      assert.equal(toHex(backend.chacha20(key, nonce, plaintext, 1)), ciphertext)
    })

    it('is its own inverse', () => {
      assert.deepEqual(backend.chacha20(key, nonce, hex(ciphertext), 1), plaintext)
    })

    it('refuses wrong key/nonce lengths and a bad counter with a CryptoError', () => {
      assert.throws(() => backend.chacha20(key.subarray(1), nonce, plaintext), CryptoError)
      assert.throws(() => backend.chacha20(key, nonce.subarray(1), plaintext), CryptoError)
      assert.throws(() => backend.chacha20(key, nonce, plaintext, -1), CryptoError)
      assert.throws(() => backend.chacha20(key, nonce, plaintext, 0xffffffff), CryptoError)
    })
  })
}

describe('ChaCha20: native and noble give identical bytes', () => {
  it('for random keys, nonces, lengths and counters', () => {
    for (let i = 0; i < 200; i++) {
      const k = nativeBackend.randomBytes(32)
      const n = nativeBackend.randomBytes(12)
      const data = nativeBackend.randomBytes(i * 7)
      const counter = i % 3 === 0 ? 0 : i * 1000
      const [a, b] = backends.map((be) => be.chacha20(k, n, data, counter))
      assert.equal(toHex(a!), toHex(b!), `length ${data.length}, counter ${counter}`)
    }
  })
})

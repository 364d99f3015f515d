import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { CryptoError } from '../../bridge/crypto/errors.js'
import { backends, hex, toHex } from './helpers.js'

for (const backend of backends) {
  describe(`RFC 7748 X25519 (${backend.name})`, () => {
    it('§5.2 test vectors (input u with the top bit set is masked)', () => {
      assert.equal(
        toHex(
          backend.x25519(
            hex('a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4'),
            hex('e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c'),
          ),
        ),
        'c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552',
      )
      assert.equal(
        toHex(
          backend.x25519(
            hex('4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d'),
            hex('e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493'),
          ),
        ),
        '95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957',
      )
    })

    it('§6.1 Diffie-Hellman', () => {
      const alice = hex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a')
      const bob = hex('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb')
      const alicePub = backend.x25519PublicKey(alice)
      const bobPub = backend.x25519PublicKey(bob)
      assert.equal(toHex(alicePub), '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a')
      assert.equal(toHex(bobPub), 'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f')
      const shared = '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742'
      assert.equal(toHex(backend.x25519(alice, bobPub)), shared)
      assert.equal(toHex(backend.x25519(bob, alicePub)), shared)
    })

    it('refuses low-order public keys (all-zero shared secret) with a CryptoError', () => {
      const priv = hex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a')
      const lowOrder = [new Uint8Array(32), Uint8Array.of(1, ...new Uint8Array(31))]
      for (const pub of lowOrder) {
        assert.throws(
          () => backend.x25519(priv, pub),
          (e: unknown) => e instanceof CryptoError && e.code === 'CRYPTO_LOW_ORDER',
        )
      }
    })
  })
}

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { encodeAddress, parseAddress } from '../../bridge/crypto/address.js'
import { blindedSigner, blindPublicKey } from '../../bridge/crypto/blind.js'
import { CryptoError } from '../../bridge/crypto/errors.js'
import { generateIdentity, identityFromSeed } from '../../bridge/crypto/identity.js'
import { backends, utf8 } from './helpers.js'

describe('blinded keys', () => {
  const identity = generateIdentity()
  const message = utf8('rendezvous record')

  it('the blinded public key is computable from the address alone and matches the signer', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.nat(), (seed, period) => {
        const id = identityFromSeed(seed)
        const fromAddress = blindPublicKey(parseAddress(encodeAddress(id.publicKey)), period)
        assert.deepEqual(blindedSigner(id, period).publicKey, fromAddress)
      }),
      { numRuns: 25 },
    )
  })

  for (const backend of backends) {
    it(`signatures verify with plain Ed25519 verify (${backend.name})`, () => {
      for (const period of [0, 1, 20000, Number.MAX_SAFE_INTEGER]) {
        const signer = blindedSigner(identity, period, backend)
        const sig = signer.sign(message)
        assert.equal(backend.ed25519Verify(signer.publicKey, message, sig), true)
        assert.equal(backend.ed25519Verify(signer.publicKey, utf8('other'), sig), false)
        assert.equal(backend.ed25519Verify(identity.publicKey, message, sig), false)
      }
    })
  }

  it('both backends give the same blinded key and signature', () => {
    const [a, b] = backends.map((backend) => blindedSigner(identity, 7, backend))
    assert.deepEqual(a!.publicKey, b!.publicKey)
    assert.deepEqual(a!.sign(message), b!.sign(message))
  })

  it('different periods give different keys, neither equal to the identity key', () => {
    const keys = [1, 2, 3, 1000].map((p) =>
      Buffer.from(blindPublicKey(identity.publicKey, p)).toString('hex'),
    )
    assert.equal(new Set([...keys, Buffer.from(identity.publicKey).toString('hex')]).size, 5)
  })

  it('a signature by a different identity does not verify under the blinded key', () => {
    const signer = blindedSigner(identity, 5)
    const impostor = blindedSigner(generateIdentity(), 5)
    for (const backend of backends) {
      assert.equal(backend.ed25519Verify(signer.publicKey, message, impostor.sign(message)), false)
    }
  })

  it('a signature for one period does not verify under another period', () => {
    const sig = blindedSigner(identity, 5).sign(message)
    assert.equal(backends[0]!.ed25519Verify(blindPublicKey(identity.publicKey, 6), message, sig), false)
  })

  it('refuses bad input with a CryptoError', () => {
    assert.throws(() => blindPublicKey(new Uint8Array(31), 1), /publicKey must be 32 bytes/)
    assert.throws(
      () => blindPublicKey(Uint8Array.of(2, ...new Uint8Array(31)), 1),
      /not a valid Ed25519 point/,
    )
    assert.throws(() => blindPublicKey(identity.publicKey, -1), CryptoError)
    assert.throws(() => blindPublicKey(identity.publicKey, 1.5), CryptoError)
    assert.throws(() => blindedSigner(identity, 1).sign('x' as never), CryptoError)
  })
})

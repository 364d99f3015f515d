import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { CryptoError } from '../../bridge/crypto/errors.js'
import {
  generateIdentity,
  identityFromSeed,
  x25519FromEd25519PublicKey,
} from '../../bridge/crypto/identity.js'
import { backends, hex, toHex } from './helpers.js'

describe('identities', () => {
  it('derive the same keys on both backends', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (seed) => {
        const [a, b] = backends.map((backend) => identityFromSeed(seed, backend))
        assert.deepEqual(a, b)
      }),
      { numRuns: 40 },
    )
  })

  it('X25519 key of the address = X25519 key of the seed (birational map), so the address suffices to encrypt', () => {
    for (const backend of backends) {
      const alice = generateIdentity(backend)
      const bob = generateIdentity(backend)
      assert.deepEqual(x25519FromEd25519PublicKey(alice.publicKey), alice.x25519PublicKey)
      const fromBob = backend.x25519(bob.x25519PrivateKey, x25519FromEd25519PublicKey(alice.publicKey))
      const fromAlice = backend.x25519(alice.x25519PrivateKey, bob.x25519PublicKey)
      assert.deepEqual(fromBob, fromAlice)
    }
  })

  it('x25519PrivateKey = clamp(SHA-512(seed)[0..32]) (RFC 8032 §5.1.5 secret scalar bytes)', () => {
    const id = identityFromSeed(hex('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60'))
    const expected = backends[0]!.sha512(id.seed).slice(0, 32)
    expected[0]! &= 248
    expected[31]! = (expected[31]! & 127) | 64
    assert.equal(toHex(id.x25519PrivateKey), toHex(expected))
  })

  it('copies the seed so a caller wiping its buffer does not change the identity', () => {
    const seed = new Uint8Array(32).fill(9)
    const id = identityFromSeed(seed)
    seed.fill(0)
    assert.deepEqual(id.seed, new Uint8Array(32).fill(9))
  })

  it('refuses bad input with a CryptoError', () => {
    assert.throws(() => identityFromSeed(new Uint8Array(16)), /seed must be 32 bytes, got 16/)
    assert.throws(() => x25519FromEd25519PublicKey(new Uint8Array(31)), CryptoError)
    // y = 2 is not on the curve
    assert.throws(
      () => x25519FromEd25519PublicKey(Uint8Array.of(2, ...new Uint8Array(31))),
      /not a valid Ed25519 point/,
    )
  })
})

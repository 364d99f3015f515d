import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { CryptoError } from '../../bridge/crypto/errors.js'
import { identityFromSeed } from '../../bridge/crypto/identity.js'
import { signedBytes, signWithDomain, verifyWithDomain } from '../../bridge/crypto/sign.js'
import { backends, toHex, utf8 } from './helpers.js'

describe('domain-separated signatures', () => {
  const id = identityFromSeed(new Uint8Array(32).fill(3))
  const message = utf8('hello')

  it('frame the message as len(domain) ‖ domain ‖ message', () => {
    assert.equal(toHex(signedBytes('ab', message)), `026162${toHex(message)}`)
  })

  for (const backend of backends) {
    it(`verify only under the same domain and key (${backend.name})`, () => {
      const sig = signWithDomain(id.seed, 'paranoim/v1/a', message, backend)
      assert.equal(verifyWithDomain(id.publicKey, 'paranoim/v1/a', message, sig, backend), true)
      assert.equal(verifyWithDomain(id.publicKey, 'paranoim/v1/b', message, sig, backend), false)
      // moving a byte between domain and message changes the framing
      assert.equal(verifyWithDomain(id.publicKey, 'paranoim/v1/ah', utf8('ello'), sig, backend), false)
      const other = identityFromSeed(new Uint8Array(32).fill(4), backend)
      assert.equal(verifyWithDomain(other.publicKey, 'paranoim/v1/a', message, sig, backend), false)
      assert.equal(
        verifyWithDomain(id.publicKey, 'paranoim/v1/a', 'x' as unknown as Uint8Array, sig, backend),
        false,
      )
    })
  }

  it('refuses an empty or over-long domain', () => {
    assert.throws(() => signedBytes('', message), CryptoError)
    assert.throws(() => signedBytes('x'.repeat(256), message), /1 to 255 bytes/)
  })
})

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { CryptoError, KeyBlobError, WrongPasswordError } from '../../bridge/crypto/errors.js'
import { generateIdentity } from '../../bridge/crypto/identity.js'
import {
  inspectSealedKey,
  openPrivateKey,
  SEALED_KEY_LENGTH,
  sealPrivateKey,
} from '../../bridge/crypto/keyfile.js'
import { backends } from './helpers.js'

const kdf = { logN: 10, r: 8, p: 1 }

describe('private keys at rest', () => {
  const identity = generateIdentity()

  for (const sealer of backends) {
    for (const opener of backends) {
      it(`sealed with ${sealer.name}, opened with ${opener.name}`, async () => {
        const blob = await sealPrivateKey(identity, 'hunter2 ünïcode', kdf, sealer)
        assert.equal(blob.length, SEALED_KEY_LENGTH)
        assert.deepEqual(await openPrivateKey(blob, 'hunter2 ünïcode', opener), identity)
      })
    }
  }

  it('inspectSealedKey gives the public key and KDF without the password', async () => {
    const blob = await sealPrivateKey(identity, 'pw', { logN: 11, r: 4, p: 2 })
    assert.deepEqual(inspectSealedKey(blob), {
      publicKey: identity.publicKey,
      kdf: { name: 'scrypt', logN: 11, r: 4, p: 2 },
    })
  })

  it('normalises the password to NFKC (composed and decomposed ü are the same password)', async () => {
    const blob = await sealPrivateKey(identity, 'gr\u00fcn', kdf)
    assert.deepEqual((await openPrivateKey(blob, 'gru\u0308n')).publicKey, identity.publicKey)
  })

  it('a wrong password is WrongPasswordError("wrong password"), never garbage', async () => {
    const blob = await sealPrivateKey(identity, 'right', kdf)
    await assert.rejects(openPrivateKey(blob, 'wrong'), (e: unknown) => {
      assert.ok(e instanceof WrongPasswordError)
      assert.equal(e.message, 'wrong password')
      assert.equal(e.code, 'WRONG_PASSWORD')
      return true
    })
  })

  it('a changed byte of salt, public key, nonce or ciphertext no longer opens (the header is authenticated)', async () => {
    const blob = await sealPrivateKey(identity, 'pw', kdf)
    for (const at of [9, 30, 60, 100, 128]) {
      const tampered = blob.slice()
      tampered[at]! ^= 1
      await assert.rejects(openPrivateKey(tampered, 'pw'), WrongPasswordError, `byte ${at}`)
    }
  })

  it('refuses malformed blobs with a specific KeyBlobError', async () => {
    const blob = await sealPrivateKey(identity, 'pw', kdf)
    const withByte = (at: number, value: number) => {
      const b = blob.slice()
      b[at] = value
      return b
    }
    const cases: [Uint8Array, RegExp][] = [
      [blob.subarray(0, 20), /too short \(20 bytes\)/],
      [withByte(0, 0x51), /bad magic/],
      [withByte(4, 2), /unsupported format version 2/],
      [withByte(5, 7), /unknown key derivation function 7/],
      [Uint8Array.of(...blob, 0), /must be 129 bytes, got 130/],
      [withByte(6, 23), /logN must be in \[10, 22\], got 23/],
      [withByte(6, 9), /logN must be in \[10, 22\], got 9/],
      [withByte(7, 0), /r must be in \[1, 32\], got 0/],
      [withByte(8, 17), /p must be in \[1, 16\], got 17/],
      [withByte(6, 22).map((b, i) => (i === 7 ? 16 : b)), /more than 4 GiB/],
    ]
    for (const [bad, message] of cases) {
      assert.throws(
        () => inspectSealedKey(bad),
        (e: unknown) => e instanceof KeyBlobError && message.test(e.message),
      )
      await assert.rejects(openPrivateKey(bad, 'pw'), KeyBlobError)
    }
    assert.throws(() => inspectSealedKey('blob' as unknown as Uint8Array), KeyBlobError)
  })

  it('a blob whose seed does not match its public key is refused', async () => {
    const other = generateIdentity()
    const forged = await sealPrivateKey({ ...identity, publicKey: other.publicKey }, 'pw', kdf)
    await assert.rejects(openPrivateKey(forged, 'pw'), /does not belong to the stored public key/)
  })

  it('reproduces a blob byte for byte from injected salt and nonce', async () => {
    const options = { salt: new Uint8Array(16).fill(1), nonce: new Uint8Array(24).fill(2) }
    const [a, b] = await Promise.all(
      backends.map((backend) => sealPrivateKey(identity, 'pw', kdf, backend, options)),
    )
    assert.deepEqual(a, b)
  })

  it('refuses bad arguments with a CryptoError', async () => {
    await assert.rejects(sealPrivateKey(identity, '', kdf), /password must not be empty/)
    await assert.rejects(sealPrivateKey(identity, 'pw', { logN: 30, r: 8, p: 1 }), CryptoError)
    await assert.rejects(sealPrivateKey(null as never, 'pw', kdf), CryptoError)
    await assert.rejects(
      sealPrivateKey(identity, 'pw', kdf, undefined, { salt: new Uint8Array(3) }),
      /salt must be 16/,
    )
    await assert.rejects(openPrivateKey(await sealPrivateKey(identity, 'pw', kdf), 5 as never), CryptoError)
  })
})

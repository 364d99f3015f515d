import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { encodeAddress, parseAddress } from '../../bridge/crypto/address.js'
import {
  backupFromFile,
  backupFromQrPayloads,
  backupFromText,
  backupToFile,
  backupToQrPayloads,
  backupToText,
} from '../../bridge/crypto/backup.js'
import { blindedSigner, blindPublicKey } from '../../bridge/crypto/blind.js'
import { DOMAIN } from '../../bridge/crypto/domains.js'
import { identityFromSeed } from '../../bridge/crypto/identity.js'
import { openPrivateKey, sealPrivateKey } from '../../bridge/crypto/keyfile.js'
import { signedBytes, signWithDomain, verifyWithDomain } from '../../bridge/crypto/sign.js'
import { backends, hex, toHex } from './helpers.js'

/**
 * Our own vectors live twice, in docs/protocol.md (for people) and in
 * test/fixtures/crypto-vectors.json (for code). The two must agree, and the
 * code must reproduce every byte.
 */
const root = new URL('../../', import.meta.url)
const v = JSON.parse(readFileSync(new URL('test/fixtures/crypto-vectors.json', root), 'utf8'))
const protocol = readFileSync(new URL('docs/protocol.md', root), 'utf8')

function leaves(value: unknown): string[] {
  if (typeof value === 'string') return [value]
  if (typeof value === 'number') return [String(value)]
  if (Array.isArray(value)) return value.flatMap(leaves)
  if (typeof value === 'object' && value !== null) return Object.values(value).flatMap(leaves)
  return []
}

describe('docs/protocol.md and test/fixtures/crypto-vectors.json', () => {
  it('the document holds every fixture value verbatim', () => {
    const { password, ...sealed } = v.sealedKey
    const values = leaves({ ...v, sealedKey: sealed })
    for (const value of values)
      assert.ok(protocol.includes(value), `docs/protocol.md lacks ${JSON.stringify(value)}`)
    assert.equal(password, '\ufb01nal password')
    assert.ok(protocol.includes('"\\ufb01nal password"'))
  })

  it('the document lists every DOMAIN string', () => {
    for (const [name, value] of Object.entries(DOMAIN)) {
      assert.ok(
        protocol.includes(`| ${name} | \`${value}\` |`),
        `add DOMAIN.${name} to "Domain separation" in docs/protocol.md`,
      )
    }
  })
})

describe('the code reproduces our vectors', () => {
  const seed = hex(v.identity.seed)

  for (const backend of backends) {
    it(`identity keys (${backend.name})`, () => {
      const id = identityFromSeed(seed, backend)
      assert.equal(toHex(id.publicKey), v.identity.publicKey)
      assert.equal(toHex(id.x25519PrivateKey), v.identity.x25519PrivateKey)
      assert.equal(toHex(id.x25519PublicKey), v.identity.x25519PublicKey)
    })

    it(`domain-separated signature (${backend.name})`, () => {
      const { domain, message, signature } = v.signature
      assert.equal(toHex(signedBytes(domain, hex(message))), v.signature.signedBytes)
      assert.equal(toHex(signWithDomain(hex(v.signature.seed), domain, hex(message), backend)), signature)
      assert.ok(verifyWithDomain(hex(v.identity.publicKey), domain, hex(message), hex(signature), backend))
    })

    it(`sealed key from injected salt and nonce, opened by both spellings of the password (${backend.name})`, async () => {
      const { kdf, salt, nonce, blob, password, passwordNfkc } = v.sealedKey
      const identity = identityFromSeed(hex(v.sealedKey.seed), backend)
      const sealed = await sealPrivateKey(identity, password, kdf, backend, {
        salt: hex(salt),
        nonce: hex(nonce),
      })
      assert.equal(toHex(sealed), blob)
      for (const pw of [password, passwordNfkc]) {
        assert.equal(toHex((await openPrivateKey(hex(blob), pw, backend)).seed), v.sealedKey.seed)
      }
    })

    it(`blinded key and signature (${backend.name})`, () => {
      const { period, blindedPublicKey, message, signature } = v.blinded
      assert.equal(toHex(blindPublicKey(hex(v.blinded.publicKey), period, backend)), blindedPublicKey)
      const signer = blindedSigner(identityFromSeed(seed, backend), period, backend)
      assert.equal(toHex(signer.sign(hex(message))), signature)
      assert.ok(backend.ed25519Verify(hex(blindedPublicKey), hex(message), hex(signature)))
    })
  }

  it('address', () => {
    assert.equal(encodeAddress(hex(v.address.publicKey)), v.address.address)
    assert.equal(toHex(parseAddress(v.address.address)), v.address.publicKey)
  })

  it('backup text, QR payloads and file, both ways', () => {
    const blob = hex(v.sealedKey.blob)
    assert.equal(backupToText(blob), v.backupText)
    assert.deepEqual(backupToQrPayloads(blob), v.qrPayloads)
    assert.equal(backupToFile(blob), v.backupFile)
    assert.equal(toHex(backupFromText(v.backupText)), v.sealedKey.blob)
    assert.equal(toHex(backupFromQrPayloads(v.qrPayloads)), v.sealedKey.blob)
    assert.equal(toHex(backupFromFile(v.backupFile)), v.sealedKey.blob)
  })
})

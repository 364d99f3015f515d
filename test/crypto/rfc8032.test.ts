import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { backends, hex, toHex } from './helpers.js'

// RFC 8032 §7.1, TEST 1–3 (Ed25519).
const vectors = [
  {
    name: 'TEST 1 (empty message)',
    secret: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
    public: 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    message: '',
    signature:
      'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
  },
  {
    name: 'TEST 2 (one byte)',
    secret: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
    public: '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c',
    message: '72',
    signature:
      '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00',
  },
  {
    name: 'TEST 3 (two bytes)',
    secret: 'c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7',
    public: 'fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025',
    message: 'af82',
    signature:
      '6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a',
  },
]

for (const backend of backends) {
  describe(`RFC 8032 §7.1 Ed25519 (${backend.name})`, () => {
    for (const v of vectors) {
      it(v.name, () => {
        assert.equal(toHex(backend.ed25519PublicKey(hex(v.secret))), v.public)
        assert.equal(toHex(backend.ed25519Sign(hex(v.secret), hex(v.message))), v.signature)
        assert.equal(backend.ed25519Verify(hex(v.public), hex(v.message), hex(v.signature)), true)
      })
    }

    it('rejects a flipped bit in message, signature or key', () => {
      const v = vectors[2]!
      const flip = (h: string, byte: number) => {
        const b = hex(h)
        b[byte]! ^= 1
        return b
      }
      assert.equal(backend.ed25519Verify(hex(v.public), flip(v.message, 0), hex(v.signature)), false)
      assert.equal(backend.ed25519Verify(hex(v.public), hex(v.message), flip(v.signature, 5)), false)
      assert.equal(backend.ed25519Verify(hex(v.public), hex(v.message), flip(v.signature, 40)), false)
      assert.equal(backend.ed25519Verify(flip(v.public, 3), hex(v.message), hex(v.signature)), false)
    })

    it('rejects a non-canonical S (S + L) instead of accepting a malleated signature', () => {
      const v = vectors[0]!
      const sig = hex(v.signature)
      const L = 2n ** 252n + 27742317777372353535851937790883648493n
      let s = 0n
      for (let i = 31; i >= 0; i--) s = (s << 8n) | BigInt(sig[32 + i]!)
      s += L
      for (let i = 0; i < 32; i++) sig[32 + i] = Number((s >> BigInt(8 * i)) & 0xffn)
      assert.equal(backend.ed25519Verify(hex(v.public), hex(v.message), sig), false)
    })
  })
}

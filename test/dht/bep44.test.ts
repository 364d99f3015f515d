import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { sha1 } from '@noble/hashes/legacy.js'
import fc from 'fast-check'
import { nativeBackend, nobleBackend } from '../../bridge/crypto/index.js'
import { Bep44FormatError, decodeBep44Signable, encodeBep44Signable } from '../../bridge/wire/bep44.js'

const hex = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'))
const text = (s: string) => new TextEncoder().encode(s)

// BEP 44 "Test vectors" section, verbatim.
const PUBLIC_KEY = hex('77ff84905a91936367c01360803104f92432fcd904a43511876df5cdf3e7e548')
const SIGNATURE_1 = hex(
  '305ac8aeb6c9c151fa120f120ea2cfb923564e11552d06a5d856091e5e853cff1260d3f39e4999684aa92eb73ffd136e6f4f3ecbfda0ce53a1608ecd7ae21f01',
)
const SIGNATURE_2 = hex(
  '6834284b6b24c3204eb2fea824d82f88883a3d95e8b4a21b8c0ded553d17d17ddf9a8a7104b1258f30bed3787e6cb896fca78c58f8e03b5f18f14951a87d9a08',
)

describe('BEP 44 signable bytes', () => {
  it('encodes test vector 1 (no salt) and its signature verifies on both backends', () => {
    const signable = encodeBep44Signable({ seq: 1, v: text('Hello World!') })
    assert.equal(Buffer.from(signable).toString(), '3:seqi1e1:v12:Hello World!')
    for (const backend of [nativeBackend, nobleBackend]) {
      assert.ok(backend.ed25519Verify(PUBLIC_KEY, signable, SIGNATURE_1), backend.name)
    }
    assert.equal(Buffer.from(sha1(PUBLIC_KEY)).toString('hex'), '4a533d47ec9c7d95b1ad75f576cffc641853b750')
  })

  it('encodes test vector 2 (salt "foobar") and its signature verifies', () => {
    const signable = encodeBep44Signable({ salt: text('foobar'), seq: 1, v: text('Hello World!') })
    assert.equal(Buffer.from(signable).toString(), '4:salt6:foobar3:seqi1e1:v12:Hello World!')
    assert.ok(nativeBackend.ed25519Verify(PUBLIC_KEY, signable, SIGNATURE_2))
    assert.ok(
      !nativeBackend.ed25519Verify(PUBLIC_KEY, signable, SIGNATURE_1),
      'vector 1 signature must not fit',
    )
    const target = sha1(new Uint8Array([...PUBLIC_KEY, ...text('foobar')]))
    assert.equal(Buffer.from(target).toString('hex'), '411eba73b6f087ca51a3795d9c8c938d365e32c1')
  })

  it('decodes both vectors back', () => {
    const plain = decodeBep44Signable(text('3:seqi1e1:v12:Hello World!'))
    assert.deepEqual(plain, { seq: 1, v: text('Hello World!') })
    const salted = decodeBep44Signable(text('4:salt6:foobar3:seqi1e1:v12:Hello World!'))
    assert.deepEqual(salted, { salt: text('foobar'), seq: 1, v: text('Hello World!') })
  })

  it('reports a non-string v as null (other people’s items)', () => {
    assert.equal(decodeBep44Signable(text('3:seqi7e1:vi42e')).v, null)
    assert.equal(decodeBep44Signable(text('3:seqi7e1:vd1:ai1ee')).v, null)
  })

  for (const [name, input] of [
    ['empty', ''],
    ['no seq', '1:v3:abc'],
    ['leading zero seq', '3:seqi01e1:v3:abc'],
    ['negative zero', '3:seqi-0e1:v3:abc'],
    ['unterminated seq', '3:seqi123'],
    ['v overruns', '3:seqi1e1:v9:abc'],
    ['trailing bytes', '3:seqi1e1:v3:abcX'],
    ['salt overruns', '4:salt9:ab3:seqi1e1:v1:a'],
    ['huge seq', '3:seqi99999999999999999999e1:v1:a'],
    ['salt over 64 bytes', `4:salt65:${'s'.repeat(65)}3:seqi1e1:v1:a`],
  ] as const) {
    it(`refuses ${name}`, () => {
      assert.throws(() => decodeBep44Signable(text(input)), Bep44FormatError)
    })
  }

  it('round-trips and never throws anything but Bep44FormatError on random bytes', () => {
    fc.assert(
      fc.property(
        fc.option(fc.uint8Array({ minLength: 1, maxLength: 64 }), { nil: undefined }),
        fc.nat(),
        fc.uint8Array({ maxLength: 999 }),
        (salt, seq, v) => {
          const decoded = decodeBep44Signable(encodeBep44Signable({ ...(salt ? { salt } : {}), seq, v }))
          assert.deepEqual(decoded, { ...(salt ? { salt } : {}), seq, v })
        },
      ),
    )
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        try {
          decodeBep44Signable(bytes)
        } catch (error) {
          assert.ok(error instanceof Bep44FormatError)
        }
      }),
    )
  })
})

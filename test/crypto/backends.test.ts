import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { AeadError, CryptoError } from '../../bridge/crypto/errors.js'
import { nativeBackend as native } from '../../bridge/crypto/native.js'
import { nobleBackend as noble } from '../../bridge/crypto/noble.js'

/** The two backends must give identical bytes for identical inputs, and refuse the same inputs. */
const bytes = (min = 0, max = 300) => fc.uint8Array({ minLength: min, maxLength: max })
const key32 = bytes(32, 32)

describe('native and noble backends agree', () => {
  it('SHA-256, SHA-512, HMAC-SHA256, HKDF-SHA256', () => {
    fc.assert(
      fc.property(
        bytes(),
        bytes(0, 80),
        bytes(0, 40),
        fc.integer({ min: 1, max: 200 }),
        (data, key, info, length) => {
          assert.deepEqual(native.sha256(data), noble.sha256(data))
          assert.deepEqual(native.sha512(data), noble.sha512(data))
          assert.deepEqual(native.hmacSha256(key, data), noble.hmacSha256(key, data))
          assert.deepEqual(
            native.hkdfSha256(data, key, info, length),
            noble.hkdfSha256(data, key, info, length),
          )
        },
      ),
      { numRuns: 100 },
    )
  })

  it('Ed25519 public keys and signatures; each verifies the other', () => {
    fc.assert(
      fc.property(key32, bytes(), (seed, message) => {
        const pub = native.ed25519PublicKey(seed)
        assert.deepEqual(noble.ed25519PublicKey(seed), pub)
        const sig = native.ed25519Sign(seed, message)
        assert.deepEqual(noble.ed25519Sign(seed, message), sig)
        assert.equal(noble.ed25519Verify(pub, message, sig), true)
        assert.equal(native.ed25519Verify(pub, message, sig), true)
      }),
      { numRuns: 60 },
    )
  })

  it('Ed25519 verify says false, never throws, on garbage', () => {
    fc.assert(
      fc.property(bytes(0, 40), bytes(), bytes(0, 70), (pub, message, sig) => {
        for (const b of [native, noble]) assert.equal(b.ed25519Verify(pub, message, sig), false)
      }),
      { numRuns: 100 },
    )
    for (const b of [native, noble]) {
      // biome-ignore lint/suspicious/noExplicitAny: hostile callers pass anything
      assert.equal(b.ed25519Verify('x' as any, null as any, 5 as any), false)
    }
  })

  it('X25519 public keys and shared secrets', () => {
    fc.assert(
      fc.property(key32, key32, (a, b) => {
        const pubB = native.x25519PublicKey(b)
        assert.deepEqual(noble.x25519PublicKey(b), pubB)
        assert.deepEqual(noble.x25519(a, pubB), native.x25519(a, pubB))
        assert.deepEqual(native.x25519(a, pubB), native.x25519(b, native.x25519PublicKey(a)))
      }),
      { numRuns: 60 },
    )
  })

  it('ChaCha20-Poly1305: same sealed bytes, each opens the other', () => {
    fc.assert(
      fc.property(
        key32,
        bytes(12, 12),
        bytes(0, 2000),
        fc.option(bytes(0, 50), { nil: undefined }),
        (k, n, pt, aad) => {
          const sealed = native.chacha20poly1305Seal(k, n, pt, aad)
          assert.deepEqual(noble.chacha20poly1305Seal(k, n, pt, aad), sealed)
          assert.deepEqual(noble.chacha20poly1305Open(k, n, sealed, aad), pt)
          assert.deepEqual(native.chacha20poly1305Open(k, n, sealed, aad), pt)
        },
      ),
      { numRuns: 100 },
    )
  })

  it('ChaCha20-Poly1305: any single flipped bit is an AeadError in both', () => {
    fc.assert(
      fc.property(key32, bytes(12, 12), bytes(0, 64), fc.nat(), (k, n, pt, at) => {
        const sealed = native.chacha20poly1305Seal(k, n, pt)
        const bit = at % (sealed.length * 8)
        sealed[bit >> 3]! ^= 1 << (bit & 7)
        for (const b of [native, noble]) assert.throws(() => b.chacha20poly1305Open(k, n, sealed), AeadError)
      }),
      { numRuns: 100 },
    )
  })

  it('scrypt', async () => {
    await fc.assert(
      fc.asyncProperty(
        bytes(0, 40),
        bytes(0, 40),
        fc.integer({ min: 1, max: 6 }),
        async (password, salt, logN) => {
          const params = { logN, r: 2, p: 1, dkLen: 32 }
          assert.deepEqual(
            await native.scrypt(password, salt, params),
            await noble.scrypt(password, salt, params),
          )
        },
      ),
      { numRuns: 20 },
    )
  })

  it('both refuse wrongly sized or typed inputs with the same CryptoError message', () => {
    const cases: [string, (b: typeof native) => unknown][] = [
      ['short seed', (b) => b.ed25519PublicKey(new Uint8Array(31))],
      ['sign with a string', (b) => b.ed25519Sign(new Uint8Array(32), 'hi' as unknown as Uint8Array)],
      ['x25519 long key', (b) => b.x25519(new Uint8Array(33), new Uint8Array(32))],
      ['x25519 short peer', (b) => b.x25519PublicKey(new Uint8Array(3))],
      [
        'aead short key',
        (b) => b.chacha20poly1305Seal(new Uint8Array(16), new Uint8Array(12), new Uint8Array(1)),
      ],
      [
        'aead bad aad',
        (b) => b.chacha20poly1305Seal(new Uint8Array(32), new Uint8Array(12), new Uint8Array(1), [] as never),
      ],
      ['hkdf length 0', (b) => b.hkdfSha256(new Uint8Array(1), new Uint8Array(0), new Uint8Array(0), 0)],
      ['random negative', (b) => b.randomBytes(-1)],
      ['sha of a string', (b) => b.sha256('abc' as unknown as Uint8Array)],
    ]
    const messageOf = (name: string, b: typeof native, call: (b: typeof native) => unknown): string => {
      try {
        call(b)
      } catch (e) {
        assert.ok(e instanceof CryptoError, `${name}: ${b.name} threw ${String(e)}`)
        return e.message
      }
      return assert.fail(`${name}: ${b.name} did not throw`)
    }
    for (const [name, call] of cases) {
      const messages = [native, noble].map((b) => messageOf(name, b, call))
      assert.equal(messages[0], messages[1], name)
    }
  })

  it('randomBytes gives the requested length and differs between calls', () => {
    for (const b of [native, noble]) {
      assert.equal(b.randomBytes(0).length, 0)
      assert.equal(b.randomBytes(33).length, 33)
      assert.notDeepEqual(b.randomBytes(16), b.randomBytes(16))
    }
  })
})

import { defaultConfig } from '../../bridge/config/schema.js'
import type { CryptoBackend } from '../../bridge/crypto/backend.js'
import { identityFromSeed } from '../../bridge/crypto/identity.js'
import { nativeBackend } from '../../bridge/crypto/native.js'
import { nobleBackend } from '../../bridge/crypto/noble.js'
import { xchachaSeal } from '../../bridge/crypto/xchacha.js'
import { type BenchRow, type BenchSuite, opsPerSecond } from '../harness.js'

/** Native (node:crypto) figures, with the noble (pure JS) backend as the reference. */
type Measure = (backend: CryptoBackend) => Promise<number>

const seed = new Uint8Array(32).fill(1)
const message = new Uint8Array(64).fill(2)
const kib = new Uint8Array(1024).fill(3)
const key = new Uint8Array(32).fill(4)
const nonce12 = new Uint8Array(12)
const nonce24 = new Uint8Array(24)

const measures: [string, string, Measure][] = [
  ['ed25519.sign', 'ops/s', (b) => opsPerSecond(() => b.ed25519Sign(seed, message))],
  [
    'ed25519.verify',
    'ops/s',
    (b) => {
      const pub = b.ed25519PublicKey(seed)
      const sig = b.ed25519Sign(seed, message)
      return opsPerSecond(() => b.ed25519Verify(pub, message, sig))
    },
  ],
  [
    'x25519.agree',
    'ops/s',
    (b) => {
      const peer = identityFromSeed(new Uint8Array(32).fill(5), b).x25519PublicKey
      return opsPerSecond(() => b.x25519(key, peer))
    },
  ],
  [
    'chacha20poly1305.seal_1KiB',
    'ops/s',
    (b) => opsPerSecond(() => b.chacha20poly1305Seal(key, nonce12, kib)),
  ],
  [
    'xchacha20poly1305.seal_1KiB',
    'ops/s',
    (b) => opsPerSecond(() => xchachaSeal(key, nonce24, kib, undefined, b)),
  ],
  [
    'scrypt.default_params',
    'ms',
    async (b) => {
      const { logN, r, p } = defaultConfig().identity.kdf
      const start = performance.now()
      await b.scrypt(message, key, { logN, r, p, dkLen: 32 })
      return performance.now() - start
    },
  ],
]

const suite: BenchSuite = {
  name: 'crypto',
  async run(): Promise<BenchRow[]> {
    const rows: BenchRow[] = []
    for (const [metric, unit, measure] of measures) {
      const value = await measure(nativeBackend)
      rows.push({ metric, value, unit, reference: { label: 'noble', value: await measure(nobleBackend) } })
    }
    return rows
  },
}

export default suite

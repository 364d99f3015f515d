import { defaultConfig } from '../../bridge/config/schema.js'
import type { CryptoBackend } from '../../bridge/crypto/backend.js'
import { identityFromSeed } from '../../bridge/crypto/identity.js'
import { nativeBackend } from '../../bridge/crypto/native.js'
import { nobleBackend } from '../../bridge/crypto/noble.js'
import { EnvelopeSealer, MAX_FRAME_BYTES } from '../../bridge/messaging/envelope.js'
import { openMemoryStore } from '../../bridge/store/index.js'
import { type BenchRow, type BenchSuite, opsPerSecond } from '../harness.js'

/**
 * End-to-end envelopes of a full frame, in the forward-secret mode (both sides
 * already exchanged an envelope, so every seal mixes in the peer's prekey):
 * native backend, with noble as the reference. The groups bench charges
 * these rates as the CPU cost of a hop.
 */
export async function envelopeRates(backend: CryptoBackend): Promise<{ seal: number; open: number }> {
  const config = defaultConfig().messaging
  const alice = identityFromSeed(new Uint8Array(32).fill(1), backend)
  const bob = identityFromSeed(new Uint8Array(32).fill(2), backend)
  const a = new EnvelopeSealer({ store: await openMemoryStore(), config, backend })
  const b = new EnvelopeSealer({ store: await openMemoryStore(), config, backend })
  const frame = new Uint8Array(MAX_FRAME_BYTES).fill(7)
  await b.open(bob, await a.seal(alice, bob.publicKey, frame))
  await a.open(alice, await b.seal(bob, alice.publicKey, frame))
  const envelope = await a.seal(alice, bob.publicKey, frame)
  return {
    seal: await opsPerSecond(() => a.seal(alice, bob.publicKey, frame)),
    open: await opsPerSecond(() => b.open(bob, envelope)),
  }
}

const suite: BenchSuite = {
  name: 'envelope',
  async run(): Promise<BenchRow[]> {
    const native = await envelopeRates(nativeBackend)
    const noble = await envelopeRates(nobleBackend)
    return [
      {
        metric: 'seal',
        value: native.seal,
        unit: 'seals/s',
        reference: { label: 'noble', value: noble.seal },
      },
      {
        metric: 'open',
        value: native.open,
        unit: 'opens/s',
        reference: { label: 'noble', value: noble.open },
      },
    ]
  },
}

export default suite

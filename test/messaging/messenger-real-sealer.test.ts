import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ENVELOPE_LENGTH } from '../../bridge/messaging/envelope.js'
import { bytes, killPeer, Network, startPeer, text, until } from './messenger-harness.js'

// The Messenger over the real EnvelopeSealer (prekeys in the same LevelDB), on a lossy network.
describe('Messenger with the real EnvelopeSealer', () => {
  it('messages both ways, a 64 KiB one, and a sender restart, over loss, duplication and reordering', async () => {
    const network = new Network({ loss: 0.2, duplicate: 0.2, reorder: 0.3 })
    const alice = await startPeer(network, { sealer: 'real' })
    const bob = await startPeer(network, { sealer: 'real' })
    const from = alice.identity.publicKey
    const to = bob.identity.publicKey
    const big = new Uint8Array(64 * 1024).map((_, i) => (i * 7) % 256)
    for (let i = 0; i < 20; i++) {
      await alice.messenger.send(from, to, bytes(`a${i}`))
      await bob.messenger.send(to, from, bytes(`b${i}`))
    }
    await alice.messenger.send(from, to, big)
    await until(() => bob.delivered.length >= 5, 'some deliveries')
    await killPeer(network, alice)
    const alice2 = await startPeer(network, {
      sealer: 'real',
      identity: alice.identity,
      dir: alice.dir,
      delivered: alice.delivered,
    })
    await alice2.messenger.send(from, to, bytes('after restart'))
    await until(() => bob.delivered.length >= 22 && alice2.delivered.length >= 20, 'every delivery', 50_000)
    assert.deepEqual(
      bob.delivered.map((m) => (m.body.length > 100 ? 'big' : text(m))),
      [...Array.from({ length: 20 }, (_, i) => `a${i}`), 'big', 'after restart'],
    )
    assert.deepEqual(bob.delivered[20]!.body, big)
    assert.deepEqual(
      alice2.delivered.map(text),
      Array.from({ length: 20 }, (_, i) => `b${i}`),
    )
    await until(
      () => alice2.messenger.counts().outbox === 0 && bob.messenger.counts().outbox === 0,
      'empty outboxes',
    )

    // Envelopes that do not open are counted, not thrown.
    await bob.messenger.receive(to, new Uint8Array(ENVELOPE_LENGTH))
    await bob.messenger.receive(to, new Uint8Array(3))
    assert.equal(bob.messenger.dropped().badEnvelope, 2)
    await killPeer(network, alice2)
    await killPeer(network, bob)
  })
})

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { generateIdentity } from '../../bridge/crypto/identity.js'
import { encodeFrame, MAX_CHUNKS } from '../../bridge/wire/frame.js'
import {
  bytes,
  killPeer,
  Network,
  StandInSealer,
  startPeer,
  testConfig,
  text,
  until,
} from './messenger-harness.js'

const total = (counts: Readonly<Record<string, number | undefined>>) =>
  Object.values(counts).reduce<number>((sum, n) => sum + (n ?? 0), 0)

describe('Messenger.receive with hostile input', () => {
  it('random envelopes and random authentic frames: never throws, counts every drop, stays bounded', async () => {
    const network = new Network()
    const config = testConfig({ reassemblyPerSender: 4, outboxPerContact: 50 })
    const bob = await startPeer(network, { config })
    const mallory = generateIdentity()
    const sealer = new StandInSealer()
    const to = bob.identity.publicKey

    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 1200 }), async (envelope) => {
        const before = total(bob.messenger.dropped())
        await bob.messenger.receive(to, envelope)
        assert.equal(total(bob.messenger.dropped()), before + 1)
      }),
      { numRuns: 300 },
    )
    assert.ok((bob.messenger.dropped().badEnvelope ?? 0) >= 300)

    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 800 }), async (frame) => {
        await bob.messenger.receive(to, await sealer.seal(mallory, to, frame))
      }),
      { numRuns: 300 },
    )
    assert.ok((bob.messenger.dropped().badFrame ?? 0) > 0)

    // Well-formed DATA with hostile fields: huge counts, far seqs, mismatched chunks, unreliable.
    const stream = fc.constantFrom(new Uint8Array(8), new Uint8Array(8).fill(1))
    const data = fc
      .record({
        reliable: fc.boolean(),
        stream,
        seq: fc.oneof(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 0xffffffff })),
        id: fc.constantFrom(new Uint8Array(16), new Uint8Array(16).fill(2)),
        timestamp: fc.integer({ min: 0, max: 10 }),
        count: fc.oneof(fc.integer({ min: 1, max: 4 }), fc.constant(MAX_CHUNKS)),
        body: fc.uint8Array({ maxLength: 770 }),
      })
      .chain((r) =>
        fc.integer({ min: 0, max: r.count - 1 }).map((index) => ({ type: 'data' as const, ...r, index })),
      )
    await fc.assert(
      fc.asyncProperty(data, async (frame) => {
        await bob.messenger.receive(to, await sealer.seal(mallory, to, encodeFrame(frame)))
        assert.ok(bob.messenger.counts().reassembling <= config.reassemblyPerSender)
      }),
      { numRuns: 500 },
    )
    const drops = bob.messenger.dropped()
    assert.ok((drops.unreliableData ?? 0) > 0 && (drops.tooFarAhead ?? 0) > 0, JSON.stringify(drops))

    // An envelope for an identity this bridge does not hold.
    await bob.messenger.receive(generateIdentity().publicKey, new Uint8Array(100))
    assert.equal(bob.messenger.dropped().unknownIdentity, 1)

    // Still works for an honest sender.
    const alice = await startPeer(network)
    await alice.messenger.send(alice.identity.publicKey, to, bytes('still here'))
    await until(() => bob.delivered.some((m) => text(m) === 'still here'), 'the honest message')
    await killPeer(network, alice)
    await killPeer(network, bob)
  })

  it('a sender cannot overflow the hold: seqs far ahead are dropped unacknowledged', async () => {
    const network = new Network()
    const config = testConfig({ outboxPerContact: 10 })
    const bob = await startPeer(network, { config })
    const mallory = generateIdentity()
    const sealer = new StandInSealer()
    const frame = (seq: number) =>
      encodeFrame({
        type: 'data',
        reliable: true,
        stream: new Uint8Array(8),
        seq,
        id: new Uint8Array(16),
        timestamp: seq,
        index: 0,
        count: 1,
        body: new Uint8Array(1),
      })
    for (let seq = 1; seq < 30; seq++) {
      await bob.messenger.receive(
        bob.identity.publicKey,
        await sealer.seal(mallory, bob.identity.publicKey, frame(seq)),
      )
    }
    assert.equal(bob.messenger.dropped().tooFarAhead, 20)
    assert.equal(bob.delivered.length, 0, 'held for the missing seq 0')
    await killPeer(network, bob)
  })
})

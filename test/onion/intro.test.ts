import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { generateIdentity } from '../../bridge/crypto/identity.js'
import { xchachaSeal } from '../../bridge/crypto/xchacha.js'
import { OnionError } from '../../bridge/onion/errors.js'
import { waitFor } from '../net/helpers.js'
import { type OnionTestNode, startOnionNodes, stopAll } from './helpers.js'

const contains = (haystack: Uint8Array, needle: Uint8Array): boolean =>
  Buffer.from(haystack).includes(Buffer.from(needle))

describe('intro points: the intro relay joins a receiver circuit and a sender circuit', () => {
  // 0 = receiver B, 1 = sender A, 2..3 = B's inbound middle hops, 4 = intro, 5..6 = A's outbound hops.
  let nodes: OnionTestNode[]
  before(async () => {
    nodes = await startOnionNodes(7)
  })
  after(() => stopAll(nodes))

  it('A introduces a sealed payload that comes out of B circuit; no relay sees its plaintext', async () => {
    const [b, a, m1, m2, intro, o1, o2] = nodes as OnionTestNode[] as [
      OnionTestNode,
      OnionTestNode,
      OnionTestNode,
      OnionTestNode,
      OnionTestNode,
      OnionTestNode,
      OnionTestNode,
    ]
    const auth = generateIdentity()
    const inbound = await b.router.buildCircuit([m1.target, m2.target, intro.target])
    await inbound.registerIntro(auth.seed)
    const received: Uint8Array[] = []
    inbound.on('introduced', (payload) => received.push(payload))

    const outbound = await a.router.buildCircuit([o1.target, o2.target, intro.target])
    const secret = new TextEncoder().encode('meet me at the usual place, 7 pm')
    // The messaging layer seals envelopes to the receiver; here a key A and B share stands in.
    const key = a.router.random(32)
    const nonce = a.router.random(24)
    const sealed = xchachaSeal(key, nonce, secret)
    await outbound.introduce(auth.publicKey, sealed)
    await waitFor(() => received.length === 1)
    assert.deepEqual(received[0], sealed)
    assert.equal(intro.router.counters.introductions, 1)

    for (const relay of [m1, m2, intro, o1, o2]) {
      assert.ok(relay.relayView.length > 0, 'the relay handled cells')
      for (const bytes of relay.relayView) assert.ok(!contains(bytes, secret), 'a relay saw the plaintext')
    }
    // Only the intro relay ever opens the sealed payload's cell; the middle hops see it under layers.
    assert.ok(intro.relayView.some((bytes) => contains(bytes, sealed)))
    for (const relay of [m1, m2, o1, o2])
      assert.ok(
        !relay.relayView.some((bytes) => contains(bytes, sealed)),
        'a middle hop saw the sealed payload',
      )
    inbound.destroy()
    outbound.destroy()
  })

  it('an INTRODUCE to an unknown auth key is refused with INTRODUCE_FAILED', async () => {
    const [, a, , , intro, o1] = nodes as OnionTestNode[]
    const outbound = await a!.router.buildCircuit([o1!.target, intro!.target])
    await assert.rejects(outbound.introduce(generateIdentity().publicKey, Uint8Array.of(1, 2, 3)), OnionError)
    outbound.destroy()
  })

  it('a registration signed by another key is refused and the circuit destroyed', async () => {
    const [b, , m1, , intro] = nodes as OnionTestNode[]
    const inbound = await b!.router.buildCircuit([m1!.target, intro!.target])
    const before = intro!.router.relay.introCount
    // Sign over another circuit's binding: replace the end's binding after the fact.
    inbound.hops.at(-1)!.keys.binding = b!.router.random(32)
    await assert.rejects(inbound.registerIntro(generateIdentity().seed), OnionError)
    assert.equal(intro!.router.relay.introCount, before)
  })

  it('the registration goes when the receiver circuit is destroyed', async () => {
    const [b, a, m1, , intro, o1] = nodes as OnionTestNode[]
    const auth = generateIdentity()
    const inbound = await b!.router.buildCircuit([m1!.target, intro!.target])
    await inbound.registerIntro(auth.seed)
    const count = intro!.router.relay.introCount
    inbound.destroy()
    await waitFor(() => intro!.router.relay.introCount === count - 1)
    const outbound = await a!.router.buildCircuit([o1!.target, intro!.target])
    await assert.rejects(outbound.introduce(auth.publicKey, Uint8Array.of(1)), OnionError)
    outbound.destroy()
  })
})

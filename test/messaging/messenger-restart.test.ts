import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  bytes,
  killPeer,
  Network,
  type Peer,
  startPeer,
  testConfig,
  text,
  until,
} from './messenger-harness.js'

// Restarts reopen the same LevelDB directory with a new Messenger, as after a kill -9:
// killPeer stops the timers and closes the store without writing anything of its own.

const restart = (network: Network, peer: Peer, extra: Parameters<typeof startPeer>[1] = {}) =>
  startPeer(network, { identity: peer.identity, dir: peer.dir, delivered: peer.delivered, ...extra })

describe('Messenger restarts', () => {
  it('a sender restarted mid-stream resends what is pending: nothing lost, nothing twice, order kept', async () => {
    const network = new Network({ loss: 0.3, duplicate: 0.2, reorder: 0.3 })
    const alice = await startPeer(network)
    const bob = await startPeer(network)
    for (let i = 0; i < 60; i++) {
      await alice.messenger.send(alice.identity.publicKey, bob.identity.publicKey, bytes(`m${i}`))
    }
    await until(() => bob.delivered.length >= 5, 'some deliveries')
    await killPeer(network, alice)
    const again = await restart(network, alice)
    assert.ok(again.messenger.counts().outbox <= 60)
    // The stream and its seqs continue after the restart.
    for (let i = 60; i < 70; i++) {
      await again.messenger.send(alice.identity.publicKey, bob.identity.publicKey, bytes(`m${i}`))
    }
    await until(() => again.messenger.counts().outbox === 0, 'the outbox to empty')
    await until(() => bob.delivered.length >= 70, 'every delivery')
    assert.deepEqual(
      bob.delivered.map(text),
      Array.from({ length: 70 }, (_, i) => `m${i}`),
    )
    await killPeer(network, again)
    await killPeer(network, bob)
  })

  it('a receiver restarted mid-message gets the chunks it lost sent again', async () => {
    // Let the first part of a 64 KiB message and its progress acks through, then nothing: bob holds
    // a partial message, alice believes its first chunks arrived.
    const network = new Network({ budget: 60 })
    const alice = await startPeer(network)
    const bob = await startPeer(network)
    const body = new Uint8Array(64 * 1024).map((_, i) => i % 253)
    await alice.messenger.send(alice.identity.publicKey, bob.identity.publicKey, body)
    await until(
      () => network.faults.budget! < 0 && bob.messenger.counts().reassembling === 1,
      'a partial message',
    )
    await killPeer(network, bob)
    network.faults.budget = undefined
    const bob2 = await restart(network, bob)
    await until(() => alice.messenger.counts().outbox === 0, 'the final ack')
    await until(() => bob2.delivered.length === 1, 'the delivery')
    assert.deepEqual(bob2.delivered[0]!.body, body)
    await killPeer(network, alice)
    await killPeer(network, bob2)
  })

  it('stored means acknowledged: a message stored but not yet delivered is delivered after a restart', async () => {
    const network = new Network()
    const alice = await startPeer(network)
    const bob = await startPeer(network, {
      deliver: async () => {
        throw new Error('the client is away')
      },
    })
    await alice.messenger.send(alice.identity.publicKey, bob.identity.publicKey, bytes('kept'))
    await until(() => alice.messenger.counts().outbox === 0, 'the ack (stored, not delivered)')
    assert.equal(bob.delivered.length, 0)
    await killPeer(network, bob)
    const bob2 = await restart(network, bob)
    await until(() => bob2.delivered.length === 1, 'the delivery from the inbox')
    assert.deepEqual(bob2.delivered.map(text), ['kept'])
    await new Promise((resolve) => setTimeout(resolve, 100))
    assert.equal(bob2.delivered.length, 1)
    await killPeer(network, alice)
    await killPeer(network, bob2)
  })

  it('acks lost: the restarted sender resends, the receiver re-acks and does not show it twice', async () => {
    const network = new Network()
    const alice = await startPeer(network)
    const bob = await startPeer(network)
    // Every envelope from bob (the acks) is lost.
    network.detach(alice.identity.publicKey)
    for (const word of ['one', 'two']) {
      await alice.messenger.send(alice.identity.publicKey, bob.identity.publicKey, bytes(word))
    }
    await until(() => bob.delivered.length === 2, 'the deliveries')
    await killPeer(network, alice)
    const alice2 = await restart(network, alice)
    let acked = 0
    alice2.messenger.on('acked', () => acked++)
    await until(() => acked === 2, 'the re-sent acks')
    assert.deepEqual(bob.delivered.map(text), ['one', 'two'])
    assert.ok((bob.messenger.dropped().duplicate ?? 0) >= 2, JSON.stringify(bob.messenger.dropped()))
    await killPeer(network, alice2)
    await killPeer(network, bob)
  })

  it('a sender restored on a new machine starts a fresh stream; the receiver takes it from seq 0', async () => {
    const network = new Network()
    const alice = await startPeer(network)
    const bob = await startPeer(network)
    await alice.messenger.send(alice.identity.publicKey, bob.identity.publicKey, bytes('old machine'))
    await until(() => bob.delivered.length === 1, 'the first delivery')
    await killPeer(network, alice)
    const restored = await startPeer(network, { identity: alice.identity, config: testConfig() })
    await restored.messenger.send(alice.identity.publicKey, bob.identity.publicKey, bytes('new machine'))
    await until(() => bob.delivered.length === 2, 'the second delivery')
    assert.deepEqual(bob.delivered.map(text), ['old machine', 'new machine'])
    await killPeer(network, restored)
    await killPeer(network, bob)
  })
})

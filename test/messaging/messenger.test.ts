import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { generateIdentity } from '../../bridge/crypto/identity.js'
import { MessengerError } from '../../bridge/messaging/messenger-errors.js'
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

const messengerError = (code: string) => (err: unknown) => err instanceof MessengerError && err.code === code

async function pair(network: Network, options: Parameters<typeof startPeer>[1] = {}) {
  const alice = await startPeer(network, options)
  const bob = await startPeer(network, options)
  return { alice, bob }
}

async function stopAll(network: Network, ...peers: Peer[]): Promise<void> {
  for (const peer of peers) await killPeer(network, peer)
}

function ackedIds(peer: Peer): Set<string> {
  const ids = new Set<string>()
  peer.messenger.on('acked', ({ id }) => ids.add(Buffer.from(id).toString('hex')))
  return ids
}

describe('Messenger', () => {
  it('delivers a 1-byte and an empty body, with id, timestamp and addresses; the sender sees them acked', async () => {
    const network = new Network()
    const { alice, bob } = await pair(network)
    const acked = ackedIds(alice)
    const one = await alice.messenger.send(alice.identity.publicKey, bob.identity.publicKey, Uint8Array.of(7))
    const empty = await alice.messenger.send(
      alice.identity.publicKey,
      bob.identity.publicKey,
      new Uint8Array(0),
    )
    assert.ok(empty.timestamp > one.timestamp)
    await until(() => bob.delivered.length === 2 && acked.size === 2, 'delivery and acks')
    const [first, second] = bob.delivered
    assert.deepEqual(first, {
      from: alice.identity.publicKey,
      to: bob.identity.publicKey,
      id: one.id,
      timestamp: one.timestamp,
      body: Uint8Array.of(7),
      reliable: true,
    })
    assert.deepEqual(second?.body, new Uint8Array(0))
    assert.deepEqual(alice.messenger.counts(), { outbox: 0, reassembling: 0 })
    await stopAll(network, alice, bob)
  })

  it('timestamps come from the injected clock, raised above the previous one; ids from the injected random', async () => {
    const network = new Network()
    let n = 0
    const random = (length: number) => new Uint8Array(length).fill(++n)
    const alice = await startPeer(network, { now: () => 5_000, random, maxFrameBytes: 100 })
    const bob = await startPeer(network)
    const sent = []
    for (const size of [1, 300, 0]) {
      sent.push(
        await alice.messenger.send(alice.identity.publicKey, bob.identity.publicKey, new Uint8Array(size)),
      )
    }
    assert.deepEqual(
      sent.map((s) => s.timestamp),
      [5_000, 5_001, 5_002],
    )
    await until(() => bob.delivered.length === 3, 'the deliveries')
    assert.deepEqual(
      bob.delivered.map((m) => [m.timestamp, m.body.length]),
      [
        [5_000, 1],
        [5_001, 300],
        [5_002, 0],
      ],
    )
    assert.deepEqual(sent[0]!.id, bob.delivered[0]!.id)
    assert.equal(new Set(sent.map((s) => s.id[0])).size, 3)
    await stopAll(network, alice, bob)
  })

  it('refuses a body over maxMessageBytes, an unknown sender, a full outbox — storing nothing', async () => {
    const network = new Network({ down: true })
    const config = testConfig({ outboxPerContact: 10 })
    const { alice, bob } = await pair(network, { config })
    const to = bob.identity.publicKey
    const from = alice.identity.publicKey
    await assert.rejects(
      alice.messenger.send(from, to, new Uint8Array(config.maxMessageBytes + 1)),
      (err: unknown) =>
        messengerError('MESSAGE_TOO_LARGE')(err) && /maxMessageBytes/.test((err as Error).message),
    )
    await assert.rejects(
      alice.messenger.send(generateIdentity().publicKey, to, bytes('x')),
      messengerError('UNKNOWN_IDENTITY'),
    )
    for (const bad of [new Uint8Array(31), new Uint8Array(32).fill(0xff)]) {
      await assert.rejects(alice.messenger.send(from, bad, bytes('x')), messengerError('RECIPIENT_INVALID'))
    }
    await alice.messenger.send(from, to, new Uint8Array(config.maxMessageBytes))
    for (let i = 1; i < 10; i++) await alice.messenger.send(from, to, bytes(`m${i}`))
    await assert.rejects(alice.messenger.send(from, to, bytes('one too many')), messengerError('OUTBOX_FULL'))
    assert.equal(alice.messenger.counts().outbox, 10)
    // Another contact has its own quota.
    await alice.messenger.send(from, generateIdentity().publicKey, bytes('elsewhere'))
    await assert.rejects(
      alice.messenger.send(from, to, new Uint8Array(2000), { reliable: false }),
      messengerError('MESSAGE_TOO_LARGE'),
    )
    await stopAll(network, alice, bob)
  })

  it('carries a 64 KiB message over a lossy, duplicating, reordering network', async () => {
    const network = new Network({ loss: 0.3, duplicate: 0.2, reorder: 0.3 })
    const { alice, bob } = await pair(network)
    const body = new Uint8Array(64 * 1024).map((_, i) => (i * 31) % 251)
    const acked = ackedIds(alice)
    const { id } = await alice.messenger.send(alice.identity.publicKey, bob.identity.publicKey, body)
    await until(() => acked.size === 1, 'the final ack')
    assert.equal(bob.delivered.length, 1)
    assert.deepEqual(bob.delivered[0]!.body, body)
    assert.deepEqual(bob.delivered[0]!.id, id)
    assert.ok(network.forgotten > 0, 'retries asked the transport to look the route up again')
    await stopAll(network, alice, bob)
  })

  it('200 messages each way with 30 % loss, duplication and reordering: all delivered once, in order', async () => {
    const network = new Network({ loss: 0.3, duplicate: 0.3, reorder: 0.5 })
    const { alice, bob } = await pair(network)
    const N = 200
    const sends: Promise<unknown>[] = []
    for (let i = 0; i < N; i++) {
      sends.push(alice.messenger.send(alice.identity.publicKey, bob.identity.publicKey, bytes(`a${i}`)))
      sends.push(bob.messenger.send(bob.identity.publicKey, alice.identity.publicKey, bytes(`b${i}`)))
    }
    await Promise.all(sends)
    await until(
      () => alice.messenger.counts().outbox === 0 && bob.messenger.counts().outbox === 0,
      'both outboxes to empty',
      50_000,
    )
    await until(() => alice.delivered.length >= N && bob.delivered.length >= N, 'every delivery')
    assert.deepEqual(
      bob.delivered.map(text),
      Array.from({ length: N }, (_, i) => `a${i}`),
    )
    assert.deepEqual(
      alice.delivered.map(text),
      Array.from({ length: N }, (_, i) => `b${i}`),
    )
    const timestamps = bob.delivered.map((m) => m.timestamp)
    assert.ok(
      timestamps.every((t, i) => i === 0 || t > timestamps[i - 1]!),
      'timestamps strictly increase',
    )
    assert.ok((bob.messenger.dropped().duplicate ?? 0) > 0, 'duplicates were seen and dropped')
    await stopAll(network, alice, bob)
  })

  it('holds a message whose predecessor is missing for holdTimeoutMs, then shows it; the late one follows', async () => {
    const network = new Network({ dropNext: 1 })
    // Retries come long after the hold timeout, so the second message overtakes the lost first one.
    const config = testConfig({ holdTimeoutMs: 300, retryInitialMs: 1500, retryMaxMs: 3000 })
    const { alice, bob } = await pair(network, { config })
    for (const word of ['first', 'second']) {
      await alice.messenger.send(alice.identity.publicKey, bob.identity.publicKey, bytes(word))
    }
    await until(() => bob.delivered.length === 1, 'the held message')
    assert.deepEqual(bob.delivered.map(text), ['second'])
    await until(() => bob.delivered.length === 2, 'the late message')
    assert.deepEqual(bob.delivered.map(text), ['second', 'first'])
    await until(() => alice.messenger.counts().outbox === 0, 'both acks')
    await stopAll(network, alice, bob)
  })

  it('a transport.send that throws is a failed attempt, retried; nothing crashes', async () => {
    const network = new Network({ throwNext: 3 })
    const { alice, bob } = await pair(network)
    await alice.messenger.send(alice.identity.publicKey, bob.identity.publicKey, bytes('through'))
    await until(() => bob.delivered.length === 1, 'the delivery')
    assert.equal(network.faults.throwNext, 0)
    // An ephemeral message whose only attempt fails still resolves.
    network.faults.throwNext = 1
    await alice.messenger.send(alice.identity.publicKey, bob.identity.publicKey, bytes('x'), {
      reliable: false,
    })
    await stopAll(network, alice, bob)
  })

  it('ephemeral: one attempt, not stored, deduplicated, delivered with reliable false', async () => {
    const network = new Network({ duplicate: 1 })
    const { alice, bob } = await pair(network)
    const { id } = await alice.messenger.send(
      alice.identity.publicKey,
      bob.identity.publicKey,
      bytes('typing'),
      {
        reliable: false,
      },
    )
    assert.equal(alice.messenger.counts().outbox, 0)
    await until(() => (bob.messenger.dropped().ephemeralDuplicate ?? 0) === 1, 'the duplicate to be dropped')
    assert.equal(bob.delivered.length, 1)
    assert.equal(bob.delivered[0]!.reliable, false)
    assert.deepEqual(bob.delivered[0]!.id, id)
    assert.equal(network.sent, 1)
    await stopAll(network, alice, bob)
  })

  it('a throwing deliver() keeps the message and retries it, in order', async () => {
    const network = new Network()
    let failures = 3
    const { alice, bob } = await pair(network, {
      deliver: async (message) => {
        if (text(message) === 'first' && failures-- > 0) throw new Error('client busy')
      },
    })
    for (const word of ['first', 'second']) {
      await alice.messenger.send(alice.identity.publicKey, bob.identity.publicKey, bytes(word))
    }
    await until(() => bob.delivered.length === 2, 'both deliveries')
    assert.deepEqual(bob.delivered.map(text), ['first', 'second'])
    assert.equal(failures, -1)
    await stopAll(network, alice, bob)
  })

  it("'unreachable' once when the network drops everything; retryNow recovers; again only after being heard", async () => {
    const network = new Network({ down: true })
    const config = testConfig({ unreachableAfterMs: 200 })
    const { alice, bob } = await pair(network, { config })
    const events: string[] = []
    alice.messenger.on('unreachable', ({ to }) => {
      assert.deepEqual(to, bob.identity.publicKey)
      events.push('unreachable')
    })
    alice.messenger.on('acked', () => events.push('acked'))
    await alice.messenger.send(alice.identity.publicKey, bob.identity.publicKey, bytes('hello?'))
    await until(() => events.length === 1, "'unreachable'")
    await new Promise((resolve) => setTimeout(resolve, 600)) // back-off grows; no second event
    assert.deepEqual(events, ['unreachable'])
    const sentWhileDown = network.sent
    network.faults.down = false
    alice.messenger.retryNow(bob.identity.publicKey)
    await until(() => events.includes('acked'), 'the ack after retryNow')
    assert.ok(network.sent > sentWhileDown)
    assert.deepEqual(bob.delivered.map(text), ['hello?'])
    // Heard from in between: a new outage is reported again.
    network.faults.down = true
    await alice.messenger.send(alice.identity.publicKey, bob.identity.publicKey, bytes('again?'))
    await until(() => events.filter((e) => e === 'unreachable').length === 2, "the second 'unreachable'")
    await stopAll(network, alice, bob)
  })
})

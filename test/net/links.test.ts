import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { createSocket, type Socket } from 'node:dgram'
import { once } from 'node:events'
import { after, describe, it } from 'node:test'
import { generateIdentity } from '../../bridge/crypto/identity.js'
import { nativeBackend } from '../../bridge/crypto/native.js'
import { LinkError, NetError } from '../../bridge/net/errors.js'
import type { Link } from '../../bridge/net/link.js'
import { initiatorStart } from '../../bridge/net/noise-nk.js'
import {
  encodeInitiation,
  encodeInitiationPayload,
  INITIATION_LENGTH,
  MAX_LINK_PAYLOAD,
  RESPONSE_LENGTH,
} from '../../bridge/wire/link.js'
import { endpointOf, ManualClock, startTestNode, type TestNode, waitFor } from './helpers.js'

const text = (s: string) => new TextEncoder().encode(s)

/** Records every overlay datagram a node receives, to replay or tamper with them. */
function tap(t: TestNode): Uint8Array[] {
  const seen: Uint8Array[] = []
  t.node.onOverlay((packet) => seen.push(new Uint8Array(packet)))
  return seen
}

/** A plain socket playing an attacker: sends raw bytes, collects whatever comes back. */
async function rawSocket(): Promise<{ socket: Socket; replies: Buffer[] }> {
  const socket = createSocket('udp4')
  const replies: Buffer[] = []
  socket.on('message', (m) => replies.push(m))
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r))
  return { socket, replies }
}

/** A well-formed initiation to `to`, built from the public pieces as any stranger could. */
function handcraftedInitiation(to: TestNode): Uint8Array {
  for (;;) {
    const payload = encodeInitiationPayload({
      initiatorId: 0x01020304,
      resumeId: 0,
      resumeTag: new Uint8Array(16),
    })
    const start = initiatorStart(nativeBackend, to.identity.x25519PublicKey, randomBytes(32), payload)
    if (start.ephemeral[0] !== 0x64) return encodeInitiation(start.ephemeral, start.sealedPayload)
  }
}

const sendRaw = (socket: Socket, bytes: Uint8Array, to: TestNode) =>
  new Promise<void>((r) => socket.send(bytes, to.node.address().port, '127.0.0.1', () => r()))

const settle = () => new Promise((r) => setTimeout(r, 50))

describe('encrypted links over real sockets', () => {
  const nodes: TestNode[] = []
  after(async () => {
    for (const n of nodes) await n.stop()
  })
  const node = async (overrides = {}, clock?: ManualClock) => {
    const n = await startTestNode(overrides, clock)
    nodes.push(n)
    return n
  }

  it('connects, authenticates the responder, and carries payloads both ways', async () => {
    const a = await node()
    const b = await node()
    const upOnB = once(b.links, 'up')
    const got: string[] = []
    b.links.onMessage((payload, link) => {
      got.push(`b:${Buffer.from(payload)}`)
      link.send(text('pong'))
    })
    a.links.onMessage((payload) => got.push(`a:${Buffer.from(payload)}`))
    const link = await a.links.connect(b.identity.publicKey, endpointOf(b))
    assert.equal(link.state, 'up')
    assert.equal(link.role, 'initiator')
    assert.deepEqual(link.peerKey, b.identity.publicKey)
    link.send(text('ping'))
    const [inbound] = (await upOnB) as [Link]
    assert.equal(inbound.role, 'responder')
    assert.equal(inbound.peerKey, undefined, 'the initiator stays anonymous')
    await waitFor(() => got.length === 2)
    assert.deepEqual(got, ['b:ping', 'a:pong'])
    assert.equal(
      await a.links.connect(b.identity.publicKey, endpointOf(b)),
      link,
      'an existing link is reused',
    )
  })

  it('refuses payloads over the limit and sends on a closed link', async () => {
    const a = await node()
    const b = await node()
    const link = await a.links.connect(b.identity.publicKey, endpointOf(b))
    assert.throws(
      () => link.send(new Uint8Array(MAX_LINK_PAYLOAD + 1)),
      (e: unknown) => e instanceof NetError && e.code === 'PAYLOAD_TOO_LARGE',
    )
    link.send(new Uint8Array(MAX_LINK_PAYLOAD))
    const down = once(b.links, 'down')
    link.close()
    assert.equal((await down)[1], 'peer-closed')
    assert.throws(
      () => link.send(text('x')),
      (e: unknown) => e instanceof LinkError && e.code === 'LINK_DOWN',
    )
  })

  it('refuses a peer key that is not a curve point, and links beyond maxLinks', async () => {
    const a = await node({ maxLinks: 1 })
    const b = await node()
    const c = await node()
    const notAPoint = new Uint8Array(32).fill(0xff)
    await assert.rejects(
      a.links.connect(notAPoint, endpointOf(b)),
      (e: unknown) => e instanceof LinkError && e.code === 'BAD_PEER_KEY',
    )
    await a.links.connect(b.identity.publicKey, endpointOf(b))
    await assert.rejects(
      a.links.connect(c.identity.publicKey, endpointOf(c)),
      (e: unknown) => e instanceof LinkError && e.code === 'LINK_LIMIT',
    )
    // As a responder too: c cannot get a link to the full node.
    const d = await node({ handshakeRetryMs: 20, handshakeTimeoutMs: 200 })
    await assert.rejects(d.links.connect(a.identity.publicKey, endpointOf(a)), LinkError)
    assert.ok(a.links.counters().dropped.linkLimit >= 1)
  })

  it('times out against the wrong node key, and the impostor never answers', async () => {
    const a = await node({ handshakeRetryMs: 20, handshakeTimeoutMs: 200 })
    const b = await node()
    const wrongKey = generateIdentity().publicKey
    await assert.rejects(
      a.links.connect(wrongKey, endpointOf(b)),
      (e: unknown) => e instanceof LinkError && e.code === 'HANDSHAKE_TIMEOUT',
    )
    assert.ok(b.links.counters().dropped.authFailed >= 1)
    assert.equal(
      b.node.counters().overlay.packetsOut,
      0,
      'no response to an initiation that does not authenticate',
    )
    assert.ok(a.links.counters().handshakes.retransmitted >= 1)
    assert.equal(a.links.list().length, 0)
  })

  it('drops and counts replayed, tampered and unknown-link packets without answering', async () => {
    const a = await node()
    const b = await node()
    const seen = tap(b)
    const got: Uint8Array[] = []
    b.links.onMessage((p) => got.push(p))
    const link = await a.links.connect(b.identity.publicKey, endpointOf(b))
    link.send(text('once'))
    await waitFor(() => got.length === 1)
    const data = seen.at(-1)!
    const { socket, replies } = await rawSocket()
    const before = structuredClone(b.links.counters().dropped)
    const outBefore = b.node.counters().overlay.packetsOut

    await sendRaw(socket, data, b) // replay
    const tampered = data.slice()
    tampered[tampered.length - 1]! ^= 1
    await sendRaw(socket, tampered, b)
    const unknown = data.slice()
    unknown[0] = 0x01
    unknown[1]! ^= 0xff
    await sendRaw(socket, unknown, b)
    await sendRaw(socket, seen.find((p) => p.length === INITIATION_LENGTH)!, b) // the handshake itself, again
    await settle()

    const after = b.links.counters().dropped
    // The tampered copy carries a counter already seen: the window refuses it before any decryption.
    assert.equal(after.replayed - before.replayed, 3)
    assert.equal(after.unknownLink - before.unknownLink, 1)
    assert.equal(got.length, 1, 'nothing delivered twice')
    assert.equal(replies.length, 0)
    assert.equal(b.node.counters().overlay.packetsOut, outBefore)
    socket.close()
  })

  it('rejects a forged packet under a fresh counter as authFailed', async () => {
    const a = await node()
    const b = await node()
    const seen = tap(b)
    const link = await a.links.connect(b.identity.publicKey, endpointOf(b))
    link.send(text('x'))
    await waitFor(() => seen.length >= 3)
    const forged = seen.at(-1)!.slice()
    forged[4] = 0xfe // counter 254+: never used, inside the window
    const before = b.links.counters().dropped.authFailed
    const { socket } = await rawSocket()
    await sendRaw(socket, forged, b)
    await waitFor(() => b.links.counters().dropped.authFailed === before + 1)
    socket.close()
  })

  it('answers a retransmitted initiation from its cache with a smaller response', async () => {
    const b = await node()
    const { socket, replies } = await rawSocket()
    const initiation = handcraftedInitiation(b)
    const accepted = b.links.counters().received.initiations
    await sendRaw(socket, initiation, b)
    await waitFor(() => replies.length === 1)
    await sendRaw(socket, initiation, b)
    await waitFor(() => replies.length === 2)
    assert.equal(b.links.counters().received.initiations, accepted + 1)
    assert.equal(b.links.counters().received.duplicateInitiations, 1)
    assert.deepEqual(replies[0], replies[1], 'the same answer, no new state')
    assert.equal(replies[0]!.length, RESPONSE_LENGTH)
    assert.ok(RESPONSE_LENGTH < INITIATION_LENGTH, 'no amplification')
    socket.close()
  })

  it('rate-limits initiations from one address', async () => {
    const b = await node({ handshakesPerSecondPerHost: 3 })
    const { socket, replies } = await rawSocket()
    for (let i = 0; i < 10; i++) await sendRaw(socket, handcraftedInitiation(b), b)
    await waitFor(
      () => b.links.counters().dropped.rateLimited + b.links.counters().received.initiations === 10,
    )
    assert.ok(b.links.counters().received.initiations <= 4)
    assert.ok(b.links.counters().dropped.rateLimited >= 6)
    await settle()
    assert.equal(replies.length, b.links.counters().received.initiations)
    socket.close()
  })

  it('tells an initiator it has answered but not yet heard from when it stops', async () => {
    const a = await node()
    const b = await node()
    a.network.drop = (datagram) => datagram.length === 28 // a's confirming keepalive never arrives
    const link = await a.links.connect(b.identity.publicKey, endpointOf(b))
    await settle()
    assert.equal(b.links.list().length, 0, 'b holds only a half-open entry')
    const down = once(a.links, 'down', { signal: AbortSignal.timeout(5000) })
    b.links.stop()
    assert.equal((await down)[1], 'peer-closed')
    assert.equal(link.state, 'closed')
  })

  it('keeps idle links alive, rekeys in place, then expires a silent peer', async () => {
    const clock = new ManualClock()
    const config = {
      keepaliveIntervalMs: 1000,
      linkIdleTimeoutMs: 3500,
      rekeyAfterMs: 5000,
      rejectAfterMs: 8000,
    }
    const a = await node(config, clock)
    const b = await node(config, clock)
    let responderUps = 0
    b.links.on('up', () => responderUps++)
    const got: string[] = []
    b.links.onMessage((p) => got.push(Buffer.from(p).toString()))
    const link = await a.links.connect(b.identity.publicKey, endpointOf(b))
    await waitFor(() => responderUps === 1)
    const inbound = b.links.list()[0]!

    const tick = async (ms: number) => {
      clock.advance(ms)
      a.links.maintain()
      b.links.maintain()
      await settle()
    }
    for (let i = 0; i < 6; i++) await tick(1000) // six keepalive periods, past rekeyAfterMs
    assert.equal(link.state, 'up')
    assert.equal(inbound.state, 'up')
    assert.ok(a.links.counters().handshakes.initiated >= 2, 'the initiator rekeyed')
    await waitFor(() => inbound.stats.handshakes >= 2)
    assert.equal(responderUps, 1, 'a rekey keeps the same responder link')
    link.send(text('after rekey'))
    await waitFor(() => got.includes('after rekey'))

    const allDown = once(b.links, 'allDown')
    a.network.cut = true
    for (let i = 0; i < 4; i++) await tick(1000)
    await allDown
    assert.equal(inbound.state, 'closed', 'a responder link ends when its initiator goes silent')
    for (let i = 0; i < 4; i++) await tick(1000)
    assert.equal(link.state, 'down', 'and the initiator, hearing nothing back, notices too')
  })

  it('re-establishes an initiator link after an outage', async () => {
    const clock = new ManualClock()
    const config = { keepaliveIntervalMs: 1000, linkIdleTimeoutMs: 3000, handshakeRetryMs: 500 }
    const a = await node(config, clock)
    const b = await node(config, clock)
    const link = await a.links.connect(b.identity.publicKey, endpointOf(b))
    const tick = async (ms: number) => {
      clock.advance(ms)
      a.links.maintain()
      b.links.maintain()
      await settle()
    }
    const down = once(a.links, 'down')
    b.network.cut = true
    for (let i = 0; i < 4; i++) await tick(1000)
    assert.equal((await down)[1], 'idle')
    assert.equal(link.state, 'down')
    b.network.cut = false
    const up = once(a.links, 'up')
    const isUp = () => link.state === 'up'
    for (let i = 0; i < 4 && !isUp(); i++) await tick(500)
    await up
    assert.ok(isUp())
    assert.equal(b.links.list().length, 1, 'the responder forgot the old link and holds one new one')
  })
})

import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { createSocket, type Socket } from 'node:dgram'
import { after, describe, it } from 'node:test'
import { nativeBackend } from '../../bridge/crypto/native.js'
import { LinkError } from '../../bridge/net/errors.js'
import { LINK_PROLOGUE } from '../../bridge/net/noise-nk.js'
import { nxRequest } from '../../bridge/net/noise-nx.js'
import {
  DESCRIPTOR_REQUEST_LENGTH,
  DESCRIPTOR_RESPONSE_LENGTH,
  encodeDescriptorRequest,
  encodeDescriptorRequestPayload,
} from '../../bridge/wire/link.js'
import { endpointOf, ManualClock, startTestNode, type TestNode, waitFor } from './helpers.js'

const text = (s: string) => new TextEncoder().encode(s)
const settle = () => new Promise((r) => setTimeout(r, 50))

/** A well-formed descriptor request, as any stranger could build it. */
function handcraftedRequest(): Uint8Array {
  for (;;) {
    const payload = encodeDescriptorRequestPayload(0x01020304)
    const { ephemeral } = nxRequest(nativeBackend, randomBytes(32), payload, LINK_PROLOGUE)
    if (ephemeral[0] !== 0x64) return encodeDescriptorRequest(ephemeral, payload)
  }
}

async function rawSocket(): Promise<{ socket: Socket; replies: Buffer[] }> {
  const socket = createSocket('udp4')
  const replies: Buffer[] = []
  socket.on('message', (m) => replies.push(m))
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r))
  return { socket, replies }
}

const sendRaw = (socket: Socket, bytes: Uint8Array, to: TestNode) =>
  new Promise<void>((r) => socket.send(bytes, to.node.address().port, '127.0.0.1', () => r()))

describe('descriptor requests over the overlay (Noise NX)', () => {
  const nodes: TestNode[] = []
  const start = async (...args: Parameters<typeof startTestNode>) => {
    const node = await startTestNode(...args)
    nodes.push(node)
    return node
  }
  after(async () => {
    for (const n of nodes) await n.stop()
  })

  it('returns the served bytes and the responder’s authenticated static key, opaque on the wire', async () => {
    const [asker, relay] = [await start(), await start()]
    const descriptor = text('a signed descriptor would be here')
    relay.links.serveDescriptor(() => descriptor)
    const wire: Uint8Array[] = []
    relay.network.drop = (d) => {
      wire.push(new Uint8Array(d))
      return false
    }
    const fetched = await asker.links.fetchDescriptor(endpointOf(relay))
    assert.deepEqual(fetched.bytes, descriptor)
    assert.deepEqual(fetched.responderStatic, relay.identity.x25519PublicKey)
    assert.equal(wire.length, 1)
    assert.equal(wire[0]!.length, DESCRIPTOR_RESPONSE_LENGTH)
    assert.equal(DESCRIPTOR_REQUEST_LENGTH, DESCRIPTOR_RESPONSE_LENGTH, 'an answer is never larger')
    const hay = Buffer.from(wire[0]!)
    assert.equal(hay.indexOf(Buffer.from(descriptor)), -1, 'the descriptor is encrypted')
    assert.equal(hay.indexOf(Buffer.from(relay.identity.x25519PublicKey)), -1, 'so is the static key')
    assert.equal(relay.links.counters().received.descriptorRequests, 1)
    assert.equal(asker.links.counters().received.descriptorResponses, 1)
    assert.equal(asker.links.list().length + relay.links.list().length, 0, 'no link is made')
  })

  it('answers nothing when it serves no descriptor, nor to malformed or short requests', async () => {
    const [silent, relay] = [await start(), await start()]
    relay.links.serveDescriptor(() => text('d'))
    const { socket, replies } = await rawSocket()
    try {
      await sendRaw(socket, handcraftedRequest(), silent)
      const padded = handcraftedRequest()
      padded[DESCRIPTOR_REQUEST_LENGTH - 1] = 1
      await sendRaw(socket, padded, relay)
      await sendRaw(socket, handcraftedRequest().subarray(0, DESCRIPTOR_REQUEST_LENGTH - 1), relay)
      await settle()
      assert.equal(replies.length, 0)
      assert.equal(silent.links.counters().dropped.notServing, 1)
      const { malformed, unknownLink } = relay.links.counters().dropped
      assert.equal(malformed, 1, 'non-zero padding')
      assert.equal(unknownLink, 1, 'a short request reads as a packet for a link we do not have')
      await sendRaw(socket, handcraftedRequest(), relay)
      await waitFor(() => replies.length === 1)
      assert.equal(replies[0]!.length, DESCRIPTOR_RESPONSE_LENGTH)
    } finally {
      socket.close()
    }
  })

  it('rate-limits requests from one address like initiations', async () => {
    const relay = await start({ handshakesPerSecondPerHost: 3 })
    relay.links.serveDescriptor(() => text('d'))
    const { socket, replies } = await rawSocket()
    try {
      for (let i = 0; i < 10; i++) await sendRaw(socket, handcraftedRequest(), relay)
      await waitFor(() => relay.links.counters().dropped.rateLimited + replies.length >= 10)
      assert.ok(replies.length <= 4, `${replies.length} answers`)
      assert.ok(relay.links.counters().dropped.rateLimited >= 6)
    } finally {
      socket.close()
    }
  })

  it('drops a forged or tampered answer, retransmits, and times out', async () => {
    const clock = new ManualClock()
    const asker = await start({}, clock)
    const relay = await start()
    relay.links.serveDescriptor(() => text('d'))
    relay.network.drop = (d) => {
      d[d.length - 1]! ^= 1 // every answer arrives tampered
      return false
    }
    const pending = asker.links.fetchDescriptor(endpointOf(relay))
    await waitFor(() => asker.links.counters().dropped.authFailed === 1)
    clock.advance(asker.config.handshakeRetryMs)
    asker.links.maintain()
    await waitFor(() => asker.links.counters().dropped.authFailed === 2)
    assert.equal(asker.links.counters().descriptors.retransmitted, 1)
    clock.advance(asker.config.handshakeTimeoutMs)
    asker.links.maintain()
    await assert.rejects(pending, (e: unknown) => e instanceof LinkError && e.code === 'HANDSHAKE_TIMEOUT')
    assert.equal(asker.links.counters().descriptors.timedOut, 1)
  })
})

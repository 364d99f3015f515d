import { defaultConfig } from '../../bridge/config/schema.js'
import type { CryptoBackend } from '../../bridge/crypto/backend.js'
import { generateIdentity, identityFromSeed } from '../../bridge/crypto/identity.js'
import { nativeBackend } from '../../bridge/crypto/native.js'
import { nobleBackend } from '../../bridge/crypto/noble.js'
import { silentLogger } from '../../bridge/log.js'
import { createLinks } from '../../bridge/net/links.js'
import {
  initiatorFinish,
  initiatorStart,
  responderAccept,
  responderReply,
} from '../../bridge/net/noise-nk.js'
import { Session } from '../../bridge/net/session.js'
import { createUdpNode } from '../../bridge/net/udp-node.js'
import {
  decodeTransport,
  encodeInitiationPayload,
  encodeLinkMessage,
  encodeResponsePayload,
} from '../../bridge/wire/link.js'
import { type BenchRow, type BenchSuite, opsPerSecond } from '../harness.js'

/**
 * Link figures on one core: full Noise NK handshakes (both sides' work),
 * sealing and opening 1 KiB overlay packets, each with the noble backend as
 * reference; link set-up over real loopback sockets; and the keepalive traffic
 * of one idle link, counted at the socket.
 */
const responder = identityFromSeed(new Uint8Array(32).fill(7))
const initiationPayload = encodeInitiationPayload({
  initiatorId: 1,
  resumeId: 0,
  resumeTag: new Uint8Array(16),
})

function handshake(b: CryptoBackend) {
  const start = initiatorStart(b, responder.x25519PublicKey, b.randomBytes(32), initiationPayload)
  const accept = responderAccept(
    b,
    responder.x25519PrivateKey,
    responder.x25519PublicKey,
    start.ephemeral,
    start.sealedPayload,
  )
  const reply = responderReply(b, accept.state, b.randomBytes(32), encodeResponsePayload(2))
  const done = initiatorFinish(b, start.state, reply.ephemeral, reply.sealedPayload)
  return { initiator: done.keys, responder: reply.keys }
}

function sessions(b: CryptoBackend) {
  const keys = handshake(b)
  return {
    sender: new Session(b, 1, 2, keys.initiator, 0, 1024),
    receiver: new Session(b, 2, 1, keys.responder, 0, 1024),
  }
}

const KIB = encodeLinkMessage({ type: 'data', payload: new Uint8Array(1024).fill(9) })

async function withReference(metric: string, unit: string, measure: (b: CryptoBackend) => Promise<number>) {
  const value = await measure(nativeBackend)
  const reference = await measure(nobleBackend)
  return { metric, value, unit, reference: { label: 'noble', value: reference } }
}

/** connect() to a fresh responder over 127.0.0.1, sequentially: handshake round trips included. */
async function loopbackHandshakes(): Promise<number> {
  const config = { ...defaultConfig().net, host: '127.0.0.1' }
  const a = createUdpNode({ bind: { host: '127.0.0.1', port: 0 }, log: silentLogger })
  const b = createUdpNode({ bind: { host: '127.0.0.1', port: 0 }, log: silentLogger })
  await Promise.all([a.start(), b.start()])
  const bKey = generateIdentity()
  const bLinks = createLinks({
    node: b,
    nodeKey: bKey,
    config: { ...config, handshakesPerSecondPerHost: 1e6, handshakesPerSecond: 1e6 },
  })
  bLinks.start()
  const aLinks = createLinks({ node: a, nodeKey: generateIdentity(), config })
  aLinks.start()
  const rate = await opsPerSecond(async () => {
    const link = await aLinks.connect(bKey.publicKey, b.address())
    link.close()
  }, 1000)
  aLinks.stop()
  bLinks.stop()
  await Promise.all([a.stop(), b.stop()])
  return rate
}

/** Bytes per second one idle link costs both ends together, at the default keepalive interval. */
async function idleLinkBytesPerSecond(): Promise<number> {
  const keepaliveIntervalMs = 50 // measured fast, scaled to the default below
  const config = { ...defaultConfig().net, host: '127.0.0.1', keepaliveIntervalMs }
  const a = createUdpNode({ bind: { host: '127.0.0.1', port: 0 }, log: silentLogger })
  const b = createUdpNode({ bind: { host: '127.0.0.1', port: 0 }, log: silentLogger })
  await Promise.all([a.start(), b.start()])
  const bKey = generateIdentity()
  const bLinks = createLinks({ node: b, nodeKey: bKey, config })
  const aLinks = createLinks({ node: a, nodeKey: generateIdentity(), config })
  bLinks.start()
  aLinks.start()
  await aLinks.connect(bKey.publicKey, b.address())
  await new Promise((r) => setTimeout(r, 200))
  const bytes = () => a.counters().overlay.bytesOut + b.counters().overlay.bytesOut
  const before = bytes()
  const started = performance.now()
  await new Promise((r) => setTimeout(r, 2000))
  const perSecond = ((bytes() - before) * 1000) / (performance.now() - started)
  aLinks.stop()
  bLinks.stop()
  await Promise.all([a.stop(), b.stop()])
  return perSecond * (keepaliveIntervalMs / defaultConfig().net.keepaliveIntervalMs)
}

const suite: BenchSuite = {
  name: 'net',
  async run(): Promise<BenchRow[]> {
    return [
      await withReference('handshake.noise_nk', 'handshakes/s', (b) => opsPerSecond(() => handshake(b))),
      await withReference('packet.seal_1KiB', 'packets/s', (b) => {
        const { sender } = sessions(b)
        return opsPerSecond(() => sender.seal(KIB))
      }),
      await withReference('packet.open_1KiB', 'packets/s', (b) => {
        const { sender, receiver } = sessions(b)
        const packet = sender.seal(KIB)
        const transport = decodeTransport(packet)
        return opsPerSecond(() => receiver.open(transport, packet))
      }),
      { metric: 'handshake.loopback_connect', value: await loopbackHandshakes(), unit: 'links/s' },
      {
        metric: 'idle_link.keepalive',
        value: await idleLinkBytesPerSecond(),
        unit: 'B/s (UDP payload, both ends)',
      },
    ]
  },
}

export default suite

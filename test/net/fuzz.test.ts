import assert from 'node:assert/strict'
import { createSocket, type Socket } from 'node:dgram'
import { after, before, describe, it } from 'node:test'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import DHT from 'bittorrent-dht'
import krpc from 'k-rpc'
import { defaultConfig } from '../../bridge/config/schema.js'
import { generateIdentity } from '../../bridge/crypto/identity.js'
import { nativeBackend } from '../../bridge/crypto/native.js'
import { silentLogger } from '../../bridge/log.js'
import { createLinks, type LinkCounters, type Links } from '../../bridge/net/links.js'
import { initiatorStart } from '../../bridge/net/noise-nk.js'
import { createUdpNode, type UdpNode } from '../../bridge/net/udp-node.js'
import { encodeInitiation, encodeInitiationPayload } from '../../bridge/wire/link.js'
import { prng } from '../fuzz-prng.js'
import { ManualClock, waitFor } from './helpers.js'

const DATAGRAMS = 100_000
const SEED = Number(process.env.FUZZ_SEED ?? 0x5eed)

const KRPC_SEEDS = [
  'd1:ad2:id20:abcdefghij0123456789e1:q4:ping1:t2:aa1:y1:qe',
  'd1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz123456e1:q9:find_node1:t2:aa1:y1:qe',
  'd1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz123456e1:q3:get1:t2:ab1:y1:qe',
  'd1:rd2:id20:mnopqrstuvwxyz123456e1:t2:aa1:y1:re',
  'd1:eli201e23:A Generic Error Ocurrede1:t2:aa1:y1:ee',
].map((s) => new Uint8Array(Buffer.from(s)))

const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0)
const accounted = (c: LinkCounters) => sum(c.received) + sum(c.dropped)

function gc(): void {
  setFlagsFromString('--expose-gc')
  ;(runInNewContext('gc') as () => void)()
}

describe('fuzzing a node with 100,000 random and mutated datagrams', () => {
  const clock = new ManualClock()
  const config = { ...defaultConfig().net, host: '127.0.0.1' }
  let socket: Socket | undefined
  let target: UdpNode
  let targetLinks: Links
  let peer: UdpNode
  let peerLinks: Links
  let sink: Socket
  let dht: DHT
  const seeds: Uint8Array[] = []

  before(async () => {
    target = createUdpNode({
      bind: { host: '127.0.0.1', port: 0 },
      clock,
      log: silentLogger,
      socketFactory: () => {
        socket = createSocket('udp4')
        return socket
      },
    })
    peer = createUdpNode({ bind: { host: '127.0.0.1', port: 0 }, clock, log: silentLogger })
    await Promise.all([target.start(), peer.start()])
    const targetKey = generateIdentity()
    targetLinks = createLinks({ node: target, nodeKey: targetKey, config })
    peerLinks = createLinks({ node: peer, nodeKey: generateIdentity(), config })
    targetLinks.start()
    peerLinks.start()
    dht = new DHT({
      krpc: krpc({ socket: target.krpcSocket(), bootstrap: [] }),
      bootstrap: false,
      verify: () => false,
    })
    sink = createSocket('udp4')
    await new Promise<void>((r) => sink.bind(0, '127.0.0.1', r))

    // Valid packets of every overlay kind, as captured on the wire, to mutate.
    target.onOverlay((p) => seeds.push(new Uint8Array(p)))
    peer.onOverlay((p) => seeds.push(new Uint8Array(p)))
    const link = await peerLinks.connect(targetKey.publicKey, target.address())
    for (const size of [0, 1, 100, 1000]) link.send(new Uint8Array(size).fill(size & 0xff))
    await waitFor(() => seeds.length >= 7)
    // A descriptor request and its answer (Noise NX), the other two overlay kinds.
    targetLinks.serveDescriptor(() => new Uint8Array(180).fill(0xd5))
    await peerLinks.fetchDescriptor(target.address())
    await waitFor(() => seeds.length >= 9)
    const payload = encodeInitiationPayload({
      initiatorId: 0x01020304,
      resumeId: 0,
      resumeTag: new Uint8Array(16),
    })
    const start = initiatorStart(
      nativeBackend,
      targetKey.x25519PublicKey,
      nativeBackend.randomBytes(32),
      payload,
    )
    if (start.ephemeral[0] !== 0x64) seeds.push(encodeInitiation(start.ephemeral, start.sealedPayload))
  })

  after(async () => {
    await new Promise<void>((r) => dht.destroy(() => r()))
    targetLinks.stop()
    peerLinks.stop()
    sink.close()
    await Promise.all([target.stop(), peer.stop()])
  })

  it('never crashes, accounts for every datagram, and keeps memory bounded', async () => {
    const random = prng(SEED)
    const randomBytes = (n: number) => {
      const out = new Uint8Array(n)
      for (let i = 0; i < n; i++) out[i] = random(256)
      return out
    }
    const concat = (a: Uint8Array, b: Uint8Array) => {
      const out = new Uint8Array(a.length + b.length)
      out.set(a)
      out.set(b, a.length)
      return out
    }
    const mutate = (packet: Uint8Array): Uint8Array => {
      const out = packet.slice()
      switch (random(7)) {
        case 0: // flip a few bits
          for (let i = random(4) + 1; i > 0 && out.length > 0; i--) out[random(out.length)]! ^= 1 << random(8)
          return out
        case 1: // truncate
          return out.subarray(0, random(out.length + 1))
        case 2: // extend
          return concat(out, randomBytes(random(64) + 1))
        case 3: // overwrite a run of bytes
          out.set(randomBytes(Math.min(out.length, random(8) + 1)), random(Math.max(1, out.length - 8)))
          return out
        case 4: // change the first byte (may turn overlay into "KRPC" and back)
          if (out.length > 0) out[0] = random(256)
          return out
        case 5: // splice two seeds
          return concat(out.subarray(0, random(out.length + 1)), all[random(all.length)]!)
        default: // replay unchanged
          return out
      }
    }
    const all = [...seeds, ...KRPC_SEEDS]
    const sinkPort = sink.address().port

    await new Promise((r) => setTimeout(r, 50)) // let the set-up traffic land before counting
    gc()
    const heapBefore = process.memoryUsage().heapUsed
    const udpBefore = structuredClone(target.counters())
    const linksBefore = accounted(targetLinks.counters())
    let krpcSent = 0
    let emptySent = 0
    const started = performance.now()
    for (let i = 0; i < DATAGRAMS; i++) {
      const kind = random(10)
      const packet = kind < 2 ? randomBytes(random(1500)) : mutate(all[random(all.length)]!)
      if (packet.length === 0) emptySent++
      else if (packet[0] === 0x64) krpcSent++
      const from = {
        address: `127.0.0.${1 + random(50)}`,
        port: sinkPort,
        family: 'IPv4',
        size: packet.length,
      }
      socket!.emit('message', Buffer.from(packet), from)
      if (i % 1000 === 999) await new Promise((r) => setImmediate(r)) // let queued replies leave
    }
    const elapsed = performance.now() - started
    await new Promise((r) => setTimeout(r, 100))
    gc()
    const heapGrowth = process.memoryUsage().heapUsed - heapBefore

    const udp = target.counters()
    const overlayIn = udp.overlay.packetsIn - udpBefore.overlay.packetsIn
    assert.equal(
      udp.krpc.packetsIn - udpBefore.krpc.packetsIn,
      krpcSent,
      'every KRPC datagram reached the facade',
    )
    assert.equal(udp.emptyDropped - udpBefore.emptyDropped, emptySent)
    assert.equal(overlayIn, DATAGRAMS - krpcSent - emptySent)
    assert.equal(
      accounted(targetLinks.counters()) - linksBefore,
      overlayIn,
      'each overlay datagram counted once',
    )
    assert.equal(udp.handlerErrors, 0, 'no handler threw')
    const { dropped, received } = targetLinks.counters()
    console.log(
      `fuzz seed ${SEED}: ${DATAGRAMS} datagrams in ${elapsed.toFixed(0)} ms; krpc ${krpcSent}, empty ${emptySent};` +
        ` received ${JSON.stringify(received)}; dropped ${JSON.stringify(dropped)};` +
        ` heap growth ${(heapGrowth / 1024 / 1024).toFixed(1)} MiB`,
    )
    assert.ok(
      dropped.malformed > 0 && dropped.replayed > 0 && dropped.unknownLink > 0 && dropped.authFailed > 0,
    )
    assert.ok(
      received.descriptorRequests > 0 && dropped.rateLimited > 0,
      'descriptor requests reached the NX path',
    )
    assert.ok(heapGrowth < 32 * 1024 * 1024, `heap grew by ${heapGrowth} bytes`)
    assert.ok(targetLinks.list().length <= 2, 'no link appeared out of noise')
  })
})

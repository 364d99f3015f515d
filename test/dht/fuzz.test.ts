import assert from 'node:assert/strict'
import { createSocket, type Socket } from 'node:dgram'
import { after, before, describe, it } from 'node:test'
import { generateIdentity } from '../../bridge/crypto/index.js'
import { startTestnet, type Testnet } from '../../bridge/dht/testnet.js'
import { encodeBep44Signable } from '../../bridge/wire/bep44.js'
import { encodeRecordValue, RecordKind } from '../../bridge/wire/record.js'
import { prng } from '../fuzz-prng.js'
import { FAST, signerOf } from './helpers.js'

const DATAGRAMS = 20_000
const SEED = Number(process.env.FUZZ_SEED ?? 0xd47)

const ascii = (s: string) => Buffer.from(s, 'latin1')

/** Well-formed queries our code handles (a put carrying a valid PIMR record, get_peers…). */
function seeds(): Buffer[] {
  const owner = generateIdentity()
  const v = Buffer.from(
    encodeRecordValue({
      kind: RecordKind.signed,
      expiresAt: Date.now() + 3_600_000,
      body: new Uint8Array(8),
    }),
  )
  const sig = Buffer.from(signerOf(owner).sign(encodeBep44Signable({ seq: 1, v })))
  const k = Buffer.from(owner.publicKey)
  const id = ascii('abcdefghij0123456789')
  const put = Buffer.concat([
    ascii('d1:ad2:id20:'),
    id,
    ascii('1:k32:'),
    k,
    ascii('3:seqi1e3:sig64:'),
    sig,
    ascii('5:token20:'),
    id,
    ascii(`1:v${v.length}:`),
    v,
    ascii('e1:q3:put1:t2:aa1:y1:qe'),
  ])
  return [
    put,
    ascii('d1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz123456e1:q3:get1:t2:ab1:y1:qe'),
    ascii('d1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz123456e1:q9:get_peers1:t2:ac1:y1:qe'),
    ascii(
      'd1:ad2:id20:abcdefghij01234567899:info_hash20:mnopqrstuvwxyz1234564:porti6881e5:token20:abcdefghij0123456789e1:q13:announce_peer1:t2:ad1:y1:qe',
    ),
    ascii('d1:ad2:id20:abcdefghij01234567896:target20:mnopqrstuvwxyz123456e1:q9:find_node1:t2:ae1:y1:qe'),
  ]
}

function mutate(seed: Buffer, random: (n: number) => number): Buffer {
  const out = Buffer.from(seed)
  switch (random(4)) {
    case 0: // flip a few bytes
      for (let i = random(4) + 1; i > 0; i--) out[random(out.length)] = random(256)
      return out
    case 1: // truncate
      return out.subarray(0, random(out.length) + 1)
    case 2: // change a length or integer digit
      for (let i = 0; i < out.length; i++)
        if (out[i]! >= 0x30 && out[i]! <= 0x39 && random(8) === 0) out[i] = 0x30 + random(10)
      return out
    default: // splice two seeds
      return Buffer.concat([out.subarray(0, random(out.length)), seed.subarray(random(seed.length))])
  }
}

describe(`fuzzing a DHT node with ${DATAGRAMS} mutated KRPC datagrams`, () => {
  let net: Testnet
  let socket: Socket
  before(async () => {
    net = await startTestnet({ nodes: 4, dht: FAST })
    socket = createSocket('udp4')
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve))
  })
  after(async () => {
    socket.close()
    await net.stop()
  })

  it('never crashes, keeps its memory bounded and still serves records afterwards', async () => {
    const target = net.nodes[1]!
    const random = prng(SEED)
    const pool = seeds()
    const heapBefore = process.memoryUsage().heapUsed
    const arrived = () => target.udp.counters().krpc.packetsIn
    const arrivedBefore = arrived()
    for (let sent = 0; sent < DATAGRAMS; ) {
      for (let i = 0; i < 50; i++, sent++) {
        const datagram = mutate(pool[random(pool.length)]!, random)
        datagram[0] = 0x64 // stays a KRPC datagram: 'd'
        socket.send(datagram, target.endpoint.port, target.endpoint.host)
      }
      // Pace to the receiver (same process): let it drain before the socket buffer overflows.
      for (let spin = 0; spin < 20 && arrived() - arrivedBefore < sent - 50; spin++) {
        await new Promise((resolve) => setTimeout(resolve, 1))
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 500))
    const counters = target.udp.counters()
    assert.ok(
      counters.krpc.packetsIn - arrivedBefore >= DATAGRAMS * 0.9,
      `only ${counters.krpc.packetsIn} arrived`,
    )
    assert.ok(process.memoryUsage().heapUsed - heapBefore < 64 * 1024 * 1024, 'heap grew by more than 64 MiB')
    const status = target.service.status()
    assert.ok(status.storedValues <= net.config.maxStoredValues)

    const owner = generateIdentity()
    await target.service.records.publish({
      signer: signerOf(owner),
      kind: RecordKind.signed,
      body: ascii('alive'),
    })
    const got = await net.nodes[2]!.service.records.fetch(owner.publicKey)
    assert.deepEqual(got?.body, new Uint8Array(ascii('alive')))
    assert.ok(target.service.dht.health().nodes > 0)
  })

  it('keeps one routing-table contact per endpoint, however many ids it claims', async () => {
    const target = net.nodes[3]!
    const before = target.service.dht.health().nodes
    for (let i = 0; i < 500; i++) {
      const id = Buffer.alloc(20, 0)
      id.writeUInt32BE(i + 1, 16)
      const ping = Buffer.concat([ascii('d1:ad2:id20:'), id, ascii('e1:q4:ping1:t2:zz1:y1:qe')])
      socket.send(ping, target.endpoint.port, target.endpoint.host)
      if (i % 50 === 49) await new Promise((resolve) => setTimeout(resolve, 5))
    }
    await new Promise((resolve) => setTimeout(resolve, 300))
    assert.ok(
      target.service.dht.health().nodes <= before + 1,
      `${target.service.dht.health().nodes} contacts`,
    )
  })
})

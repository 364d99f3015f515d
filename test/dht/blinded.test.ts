import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { ed25519 } from '@noble/curves/ed25519.js'
import { bytesToNumberLE } from '@noble/curves/utils.js'
import { blindedSigner, DOMAIN, generateIdentity, nativeBackend } from '../../bridge/crypto/index.js'
import {
  blindedRecordKey,
  openBlindedBody,
  recordBodyKey,
  sealBlindedBody,
} from '../../bridge/dht/blinded-records.js'
import { RecordError } from '../../bridge/dht/errors.js'
import { periodAt, periodsToLookUp, periodsToPublish } from '../../bridge/dht/period.js'
import { startTestnet, type Testnet } from '../../bridge/dht/testnet.js'
import { FAST, startHostileNode } from './helpers.js'

const DAY = 86_400_000
const HOUR = 3_600_000
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const text = (s: string) => new TextEncoder().encode(s)
const backend = nativeBackend

/** The blinding factor as docs/protocol.md defines it, rebuilt here from public data plus the address. */
function blindFactor(address: Uint8Array, period: number): bigint {
  const periodBytes = new Uint8Array(8)
  new DataView(periodBytes.buffer).setBigUint64(0, BigInt(period))
  const input = new Uint8Array([...new TextEncoder().encode(DOMAIN.blindFactor), ...address, ...periodBytes])
  return ed25519.Point.Fn.create(bytesToNumberLE(backend.sha512(input)))
}

describe('blinded record keys per period', () => {
  const alice = generateIdentity()
  const bob = generateIdentity()
  const p = 20_000

  it('differ between periods and from the address', () => {
    const k1 = blindedRecordKey(alice.publicKey, p, backend)
    const k2 = blindedRecordKey(alice.publicKey, p + 1, backend)
    assert.notEqual(hex(k1), hex(k2))
    assert.notEqual(hex(k1), hex(alice.publicKey))
    assert.notEqual(
      hex(recordBodyKey(alice.publicKey, p, backend)),
      hex(recordBodyKey(alice.publicKey, p + 1, backend)),
    )
  })

  it('are computed by whoever holds the address, and match what the key owner signs under', () => {
    for (const period of [p, p + 1]) {
      assert.equal(
        hex(blindedRecordKey(alice.publicKey, period, backend)),
        hex(blindedSigner(alice, period).publicKey),
      )
    }
  })

  it('cannot be linked without the address: the step from one period to the next depends on it', () => {
    // K(p) = h(A, p)·A. Going from K(p) to K(p+1) means multiplying by h(A, p+1)/h(A, p);
    // that factor is a hash of the address, so one address's step does not fit another's keys.
    const Fn = ed25519.Point.Fn
    const step = (address: Uint8Array) => Fn.div(blindFactor(address, p + 1), blindFactor(address, p))
    const apply = (key: Uint8Array, factor: bigint) =>
      hex(ed25519.Point.fromBytes(key).multiply(factor).toBytes())
    const aliceNow = blindedRecordKey(alice.publicKey, p, backend)
    const bobNow = blindedRecordKey(bob.publicKey, p, backend)
    assert.equal(
      apply(aliceNow, step(alice.publicKey)),
      hex(blindedRecordKey(alice.publicKey, p + 1, backend)),
    )
    assert.notEqual(
      apply(bobNow, step(alice.publicKey)),
      hex(blindedRecordKey(bob.publicKey, p + 1, backend)),
    )
    assert.notEqual(step(alice.publicKey), step(bob.publicKey))
  })

  it('bodies open only with the right address and period', () => {
    const body = sealBlindedBody(alice.publicKey, p, text('secret'), backend)
    assert.deepEqual(openBlindedBody(alice.publicKey, p, body, backend), text('secret'))
    const refused = (e: unknown) => e instanceof RecordError && e.code === 'RECORD_UNEXPECTED'
    assert.throws(() => openBlindedBody(alice.publicKey, p + 1, body, backend), refused)
    assert.throws(() => openBlindedBody(bob.publicKey, p, body, backend), refused)
    assert.ok(!Buffer.from(body).includes(Buffer.from('secret')))
  })

  it('periods: publish for the next one near the boundary, look up the previous one just after', () => {
    const start = 100 * DAY
    assert.equal(periodAt(start, DAY), 100)
    assert.deepEqual(periodsToPublish(start + HOUR, DAY, 2 * HOUR), [100])
    assert.deepEqual(periodsToPublish(start + DAY - HOUR, DAY, 2 * HOUR), [100, 101])
    assert.deepEqual(periodsToLookUp(start + HOUR, DAY, 2 * HOUR), [100, 99])
    assert.deepEqual(periodsToLookUp(start + 3 * HOUR, DAY, 2 * HOUR), [100])
  })
})

describe('blinded records on a live testnet', () => {
  let now = 1_000 * DAY - HOUR // one hour before a period boundary
  const clock = { now: () => now }
  let net: Testnet
  before(async () => {
    net = await startTestnet({ nodes: 8, dht: { ...FAST, periodMs: DAY, periodOverlapMs: 2 * HOUR }, clock })
  })
  after(async () => {
    await net.stop()
  })

  it('publishes under the current and next period near a boundary, and is found across it', async () => {
    const alice = generateIdentity()
    const published = await net.nodes[1]!.service.blinded.publish(alice, text('intro X, Y, Z'))
    assert.equal(published.length, 2)
    assert.equal(hex(published[0]!.publicKey), hex(blindedRecordKey(alice.publicKey, 999, backend)))
    assert.equal(hex(published[1]!.publicKey), hex(blindedRecordKey(alice.publicKey, 1000, backend)))
    assert.deepEqual(await net.nodes[5]!.service.blinded.fetch(alice.publicKey), text('intro X, Y, Z'))
    now += 2 * HOUR // into period 1000
    assert.deepEqual(await net.nodes[6]!.service.blinded.fetch(alice.publicKey), text('intro X, Y, Z'))
    now -= 2 * HOUR
  })

  it('keeps republishing owned records, under the new period’s key once it starts', async () => {
    const bob = generateIdentity()
    const service = net.nodes[2]!.service
    now = 2_000 * DAY + 12 * HOUR // mid-period: only the current key
    assert.equal((await service.blinded.own(bob, text('v1'))).length, 1)
    now = 2_001 * DAY + 12 * HOUR // a day later: period 2001, never published by hand
    assert.equal(await net.nodes[4]!.service.blinded.fetch(bob.publicKey), null)
    await service.records.republishAll()
    assert.deepEqual(await net.nodes[4]!.service.blinded.fetch(bob.publicKey), text('v1'))
    service.blinded.disown(bob.publicKey)
  })

  it('what DHT nodes store reveals neither the address nor the body', async () => {
    const carol = generateIdentity()
    const observer = await startHostileNode(net)
    const seen: Buffer[] = []
    try {
      now = 3_000 * DAY + 12 * HOUR
      const krpc = observer.udp.krpcSocket()
      krpc.on('message', (packet: Buffer) => seen.push(Buffer.from(packet)))
      const blindedKey = Buffer.from(blindedRecordKey(carol.publicKey, 3000, backend))
      for (let attempt = 0; attempt < 3 && !Buffer.concat(seen).includes(blindedKey); attempt++) {
        await net.nodes[3]!.service.blinded.publish(carol, text('carol is at intro Q'))
      }
      const fetched = await net.nodes[6]!.service.blinded.fetch(carol.publicKey)
      assert.deepEqual(fetched, text('carol is at intro Q'))
      const traffic = Buffer.concat(seen)
      assert.ok(traffic.includes(blindedKey), 'the observer saw the put')
      assert.ok(!traffic.includes(Buffer.from(carol.publicKey)), 'address visible')
      assert.ok(!traffic.includes(Buffer.from('intro Q')), 'body visible')
    } finally {
      await observer.stop()
    }
  })
})

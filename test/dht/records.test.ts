import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { defaultConfig } from '../../bridge/config/schema.js'
import { generateIdentity, nativeBackend } from '../../bridge/crypto/index.js'
import type { DhtNode, MutableItem } from '../../bridge/dht/dht-node.js'
import { DhtError, RecordError } from '../../bridge/dht/errors.js'
import { emptyRefusals, judgeItem, type RefusalCounts } from '../../bridge/dht/item-verifier.js'
import { createRecords } from '../../bridge/dht/records.js'
import { startTestnet, type Testnet } from '../../bridge/dht/testnet.js'
import { silentLogger } from '../../bridge/log.js'
import { encodeBep44Signable } from '../../bridge/wire/bep44.js'
import { encodeRecordValue, RecordFormatError, RecordKind } from '../../bridge/wire/record.js'
import { FAST, type HostileNode, signerOf, startHostileNode } from './helpers.js'

const HOUR = 3_600_000
const text = (s: string) => new TextEncoder().encode(s)
const sumOf = (net: Testnet, code: keyof RefusalCounts) =>
  net.nodes.reduce((n, node) => n + node.service.refusals[code], 0)

describe('signed records on a live testnet', () => {
  let net: Testnet
  let store: HostileNode
  let attacker: HostileNode
  before(async () => {
    net = await startTestnet({ nodes: 8, dht: FAST })
    store = await startHostileNode(net)
    attacker = await startHostileNode(net)
  })
  after(async () => {
    await attacker.stop()
    await store.stop()
    await net.stop()
  })

  it('a record put by one node is got by another, with the body and a fresh expiry', async () => {
    const owner = generateIdentity()
    const published = await net.nodes[1]!.service.records.publish({
      signer: signerOf(owner),
      kind: RecordKind.signed,
      body: text('hello'),
    })
    assert.ok(published.storedOn >= 4, `stored on ${published.storedOn}`)
    const got = await net.nodes[6]!.service.records.fetch(owner.publicKey, undefined, RecordKind.signed)
    assert.ok(got)
    assert.deepEqual(got.body, text('hello'))
    assert.equal(got.seq, published.seq)
    assert.ok(got.expiresAt > Date.now() + HOUR)
  })

  it('salts separate records under one key', async () => {
    const owner = generateIdentity()
    const records = net.nodes[2]!.service.records
    await records.publish({
      signer: signerOf(owner),
      salt: text('a'),
      kind: RecordKind.signed,
      body: text('A'),
    })
    await records.publish({
      signer: signerOf(owner),
      salt: text('b'),
      kind: RecordKind.signed,
      body: text('B'),
    })
    const reader = net.nodes[5]!.service.records
    assert.deepEqual((await reader.fetch(owner.publicKey, text('a')))?.body, text('A'))
    assert.deepEqual((await reader.fetch(owner.publicKey, text('b')))?.body, text('B'))
    assert.equal(await reader.fetch(owner.publicKey), null)
  })

  it('refuses a record signed by anyone else: storing nodes drop it, readers ignore the hostile copy', async () => {
    const owner = generateIdentity()
    const forger = generateIdentity()
    const before = sumOf(net, 'RECORD_SIGNATURE')
    const value = encodeRecordValue({
      kind: RecordKind.signed,
      expiresAt: Date.now() + HOUR,
      body: text('forged'),
    })
    const stored = await attacker.dht.putMutable({
      publicKey: owner.publicKey,
      seq: 1,
      value,
      sign: signerOf(forger).sign,
    })
    assert.equal(stored, 1, 'only the hostile store takes it')
    assert.ok(sumOf(net, 'RECORD_SIGNATURE') - before >= 4, 'honest nodes refused it')
    const reader = net.nodes[3]!.service
    const readerBefore = reader.refusals.RECORD_SIGNATURE
    assert.equal(await reader.records.fetch(owner.publicKey), null)
    assert.ok(reader.refusals.RECORD_SIGNATURE > readerBefore, 'the hostile reply was refused')
  })

  it('refuses an expired record and one whose expiry is implausibly far', async () => {
    for (const [code, expiresAt] of [
      ['RECORD_EXPIRED', Date.now() - HOUR],
      ['RECORD_TOO_FAR', Date.now() + 30 * 24 * HOUR],
    ] as const) {
      const owner = generateIdentity()
      const before = sumOf(net, code)
      const value = encodeRecordValue({ kind: RecordKind.signed, expiresAt, body: text('old') })
      const stored = await attacker.dht.putMutable({
        publicKey: owner.publicKey,
        seq: 1,
        value,
        sign: signerOf(owner).sign,
      })
      assert.equal(stored, 1, `${code}: only the hostile store takes it`)
      assert.ok(sumOf(net, code) - before >= 4, `${code}: honest nodes refused it`)
      const reader = net.nodes[4]!.service
      const readerBefore = reader.refusals[code]
      assert.equal(await reader.records.fetch(owner.publicKey), null)
      assert.ok(reader.refusals[code] > readerBefore, `${code}: the reader refused the hostile copy`)
    }
  })

  it('refuses a lower seq: holders answer 302 and readers keep the newest', async () => {
    const owner = generateIdentity()
    const records = net.nodes[1]!.service.records
    const first = await records.publish({
      signer: signerOf(owner),
      kind: RecordKind.signed,
      body: text('v1'),
    })
    const second = await records.publish({
      signer: signerOf(owner),
      kind: RecordKind.signed,
      body: text('v2'),
    })
    assert.ok(second.seq > first.seq)
    const replay = encodeRecordValue({
      kind: RecordKind.signed,
      expiresAt: Date.now() + HOUR,
      body: text('v0'),
    })
    // Only the publisher itself never stored the item (bittorrent-dht keeps no copy of its own puts).
    const storedOn = await net.nodes[2]!.service.dht.putMutable({
      publicKey: owner.publicKey,
      seq: first.seq - 1,
      value: replay,
      sign: signerOf(owner).sign,
    }).catch((e: DhtError) => (/sequence number less than current/.test(e.message) ? 0 : Number.NaN))
    assert.ok(storedOn <= 1, `the replay was stored on ${storedOn} nodes`)
    const got = await net.nodes[7]!.service.records.fetch(owner.publicKey)
    assert.deepEqual(got?.body, text('v2'))
    assert.equal(got?.seq, second.seq)
  })

  it('refuses oversized records before sending them', async () => {
    const owner = generateIdentity()
    await assert.rejects(
      net.nodes[1]!.service.records.publish({
        signer: signerOf(owner),
        kind: RecordKind.signed,
        body: new Uint8Array(986),
      }),
      (e: unknown) => e instanceof RecordFormatError && e.code === 'RECORD_TOO_LARGE',
    )
    await assert.rejects(
      net.nodes[1]!.service.dht.putMutable({
        publicKey: owner.publicKey,
        seq: 1,
        value: new Uint8Array(1000),
        sign: signerOf(owner).sign,
      }),
      (e: unknown) => e instanceof DhtError && e.code === 'DHT_BAD_ARGUMENT',
    )
  })

  it('republishes owned records with a higher seq and a fresh expiry', async () => {
    const owner = generateIdentity()
    const records = net.nodes[3]!.service.records
    const publishNow = () =>
      records.publish({ signer: signerOf(owner), kind: RecordKind.signed, body: text('mine') })
    const first = await publishNow()
    records.own('test', publishNow)
    await records.republishAll()
    records.disown('test')
    const got = await net.nodes[5]!.service.records.fetch(owner.publicKey)
    assert.ok(got && got.seq > first.seq)
    assert.ok(got.expiresAt >= first.expiresAt)
  })
})

describe('readers refuse what a get returns (records.fetch over a scripted DHT)', () => {
  const owner = generateIdentity()
  const config = defaultConfig().dht
  function readerReturning(items: MutableItem[]) {
    const refusals = emptyRefusals()
    const dht = { getMutable: async () => items.shift() ?? null } as unknown as DhtNode
    const clock = { now: () => Date.now() }
    return { refusals, records: createRecords({ dht, config, clock, refusals, log: silentLogger }) }
  }
  const item = (seq: number, value: Uint8Array): MutableItem => ({ publicKey: owner.publicKey, seq, value })
  const good = (expiresAt = Date.now() + HOUR, kind: RecordKind = RecordKind.signed) =>
    encodeRecordValue({ kind, expiresAt, body: new Uint8Array(40) })

  for (const [code, value] of [
    ['RECORD_EXPIRED', () => good(Date.now() - HOUR)],
    ['RECORD_TOO_FAR', () => good(Date.now() + 48 * HOUR)],
    ['RECORD_TOO_LARGE', () => new Uint8Array([...good(), ...new Uint8Array(990)])],
    ['RECORD_MALFORMED', () => text('not a record')],
    ['RECORD_UNEXPECTED', () => good(undefined, RecordKind.blinded)],
  ] as const) {
    it(`${code}`, async () => {
      const { records, refusals } = readerReturning([item(1, value())])
      await assert.rejects(records.fetch(owner.publicKey, undefined, RecordKind.signed), (e: unknown) => {
        return e instanceof RecordError && e.code === code
      })
      assert.equal(refusals[code], 1)
    })
  }

  it('RECORD_STALE: a lower seq after a higher one was seen', async () => {
    const { records, refusals } = readerReturning([item(10, good()), item(9, good())])
    assert.equal((await records.fetch(owner.publicKey))?.seq, 10)
    await assert.rejects(
      records.fetch(owner.publicKey),
      (e: unknown) => e instanceof RecordError && e.code === 'RECORD_STALE',
    )
    assert.equal(refusals.RECORD_STALE, 1)
  })
})

describe('judgeItem (the verify hook of every storing node)', () => {
  const owner = generateIdentity()
  const context = {
    backend: nativeBackend,
    now: Date.now(),
    limits: { clockSkewMs: 0, maxRecordTtlMs: 24 * HOUR },
  }
  const judge = (v: Uint8Array, signer = owner) => {
    const message = encodeBep44Signable({ seq: 1, v })
    return judgeItem(nativeBackend.ed25519Sign(signer.seed, message), message, owner.publicKey, context)
  }
  const record = (expiresAt: number, bodyLength = 1) =>
    encodeRecordValue({ kind: RecordKind.signed, expiresAt, body: new Uint8Array(bodyLength) })

  it('accepts a good record and other people’s items on their signature alone', () => {
    assert.equal(judge(record(context.now + HOUR)), null)
    assert.equal(judge(text('someone else’s value')), null)
  })

  it('refuses with the specific reason', () => {
    assert.equal(judge(record(context.now + HOUR), generateIdentity()), 'RECORD_SIGNATURE')
    assert.equal(judge(record(context.now - 1)), 'RECORD_EXPIRED')
    assert.equal(judge(record(context.now + 25 * HOUR)), 'RECORD_TOO_FAR')
    assert.equal(judge(new Uint8Array([...record(context.now + HOUR, 985), 0])), 'RECORD_TOO_LARGE')
    assert.equal(judge(text('PIMR\x09')), 'RECORD_MALFORMED')
    assert.equal(judgeItem('sig', new Uint8Array(1), owner.publicKey, context), 'RECORD_MALFORMED')
  })
})

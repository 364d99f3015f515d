import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { generateIdentity, nativeBackend, nobleBackend } from '../../bridge/crypto/index.js'
import { blindedRecordKey, recordBodyKey } from '../../bridge/dht/blinded-records.js'
import { dhtNodeId } from '../../bridge/dht/node-id.js'
import { RELAY_INFO_HASH } from '../../bridge/dht/relay-info-hash.js'
import {
  Capability,
  DescriptorError,
  decodeDescriptor,
  MAX_DESCRIPTOR_ENDPOINTS,
  signDescriptor,
} from '../../bridge/wire/descriptor.js'
import {
  decodeRecordValue,
  encodeRecordValue,
  MAX_RECORD_BODY_LENGTH,
  RecordFormatError,
  RecordKind,
} from '../../bridge/wire/record.js'

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const fromHex = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'))

/** docs/protocol.md "Node descriptors" test vector: seed 00 01 … 1f. */
const SEED = Uint8Array.from({ length: 32 }, (_, i) => i)
const PUBLIC_KEY = '03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8'
const DESCRIPTOR_FIELDS = {
  nodeKey: fromHex(PUBLIC_KEY),
  protocolVersion: 1,
  capabilities: Capability.relay | Capability.introPoint,
  publishedAt: 1_700_000_000_000,
  expiresAt: 1_700_010_800_000,
  endpoints: [{ host: '192.0.2.7', port: 6881 }],
}
const DESCRIPTOR_HEX =
  '50494d440103a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b80001000000030000018bcfe568000000018bd08a33800104c00002071ae1e804f9d0f937a55fe1c5b9e1b009cadf8b344108d616b9d47759a7539df3f81c39bd758003bab52339b8f3bd9503770b095bbef13c93bdd9222011b4ef33cd00'

describe('record value (wire/record.ts)', () => {
  it('matches the docs/protocol.md vector', () => {
    const value = encodeRecordValue({
      kind: RecordKind.signed,
      expiresAt: 1_700_007_200_000,
      body: new TextEncoder().encode('hello'),
    })
    assert.equal(hex(value), '50494d5201010000018bd053450068656c6c6f')
    assert.deepEqual(decodeRecordValue(value), {
      kind: RecordKind.signed,
      expiresAt: 1_700_007_200_000,
      body: new TextEncoder().encode('hello'),
    })
  })

  it('keeps every value under 1000 bytes', () => {
    const largest = encodeRecordValue({
      kind: RecordKind.signed,
      expiresAt: 1,
      body: new Uint8Array(MAX_RECORD_BODY_LENGTH),
    })
    assert.equal(largest.length, 999)
    assert.throws(
      () =>
        encodeRecordValue({
          kind: RecordKind.signed,
          expiresAt: 1,
          body: new Uint8Array(MAX_RECORD_BODY_LENGTH + 1),
        }),
      (e: unknown) => e instanceof RecordFormatError && e.code === 'RECORD_TOO_LARGE',
    )
    assert.throws(
      () => decodeRecordValue(new Uint8Array([...largest, 0])),
      (e: unknown) => e instanceof RecordFormatError && e.code === 'RECORD_TOO_LARGE',
    )
  })

  const good = encodeRecordValue({ kind: RecordKind.blinded, expiresAt: 5, body: new Uint8Array(40) })
  for (const [code, mutate] of [
    ['RECORD_TRUNCATED', (b: Uint8Array) => b.subarray(0, 13)],
    ['RECORD_MAGIC', (b: Uint8Array) => Uint8Array.of(0x51, ...b.subarray(1))],
    ['RECORD_VERSION', (b: Uint8Array) => Uint8Array.of(...b.subarray(0, 4), 2, ...b.subarray(5))],
    ['RECORD_KIND', (b: Uint8Array) => Uint8Array.of(...b.subarray(0, 5), 9, ...b.subarray(6))],
    ['RECORD_EXPIRY', (b: Uint8Array) => Uint8Array.of(...b.subarray(0, 6), 0xff, ...b.subarray(7))],
    ['RECORD_BODY', (b: Uint8Array) => b.subarray(0, 14 + 39)],
  ] as const) {
    it(`refuses with ${code}`, () => {
      assert.throws(
        () => decodeRecordValue(mutate(good)),
        (e: unknown) => e instanceof RecordFormatError && e.code === code,
      )
    })
  }

  it('throws only RecordFormatError on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1100 }), (bytes) => {
        try {
          decodeRecordValue(Uint8Array.of(0x50, 0x49, 0x4d, 0x52, ...bytes))
        } catch (error) {
          assert.ok(error instanceof RecordFormatError)
        }
      }),
    )
  })
})

describe('node descriptor (wire/descriptor.ts)', () => {
  it('matches the docs/protocol.md vector on both backends', () => {
    for (const backend of [nativeBackend, nobleBackend]) {
      assert.equal(hex(backend.ed25519PublicKey(SEED)), PUBLIC_KEY)
      assert.equal(hex(signDescriptor(DESCRIPTOR_FIELDS, SEED, backend)), DESCRIPTOR_HEX)
      const decoded = decodeDescriptor(fromHex(DESCRIPTOR_HEX), backend)
      assert.deepEqual({ ...decoded, bytes: undefined }, { ...DESCRIPTOR_FIELDS, bytes: undefined })
    }
  })

  it('refuses every single flipped bit (signature or structure)', () => {
    const bytes = fromHex(DESCRIPTOR_HEX)
    for (let bit = 0; bit < bytes.length * 8; bit += 7) {
      const mutated = bytes.slice()
      mutated[bit >> 3]! ^= 1 << (bit & 7)
      assert.throws(() => decodeDescriptor(mutated), DescriptorError, `bit ${bit}`)
    }
  })

  it('refuses a descriptor signed by another key', () => {
    const other = generateIdentity()
    const forged = signDescriptor(DESCRIPTOR_FIELDS, other.seed)
    assert.throws(
      () => decodeDescriptor(forged),
      (e: unknown) => e instanceof DescriptorError && e.code === 'DESCRIPTOR_SIGNATURE',
    )
  })

  it('refuses bad lengths, counts and fields with specific codes', () => {
    const bytes = fromHex(DESCRIPTOR_HEX)
    const code = (b: Uint8Array) => {
      try {
        decodeDescriptor(b)
        return 'accepted'
      } catch (e) {
        return (e as DescriptorError).code
      }
    }
    assert.equal(code(bytes.subarray(0, 100)), 'DESCRIPTOR_LENGTH')
    assert.equal(code(new Uint8Array([...bytes, 0])), 'DESCRIPTOR_LENGTH')
    assert.equal(code(Uint8Array.of(0, ...bytes.subarray(1))), 'DESCRIPTOR_MAGIC')
    assert.equal(code(Uint8Array.of(...bytes.subarray(0, 4), 7, ...bytes.subarray(5))), 'DESCRIPTOR_VERSION')
    const zeroEndpoints = bytes.slice()
    zeroEndpoints[59] = 0
    assert.equal(code(zeroEndpoints), 'DESCRIPTOR_ENDPOINT')
    const seed = generateIdentity().seed
    const fields = { ...DESCRIPTOR_FIELDS, nodeKey: nativeBackend.ed25519PublicKey(seed) }
    assert.equal(
      code(signDescriptor({ ...fields, endpoints: [{ host: '10.0.0.1', port: 0 }] }, seed)),
      'DESCRIPTOR_ENDPOINT',
    )
    assert.equal(code(signDescriptor({ ...fields, expiresAt: fields.publishedAt }, seed)), 'DESCRIPTOR_FIELD')
    assert.throws(
      () => signDescriptor({ ...fields, endpoints: [{ host: '::1', port: 1 }] }, seed),
      DescriptorError,
    )
    const many = Array.from({ length: MAX_DESCRIPTOR_ENDPOINTS + 1 }, (_, i) => ({
      host: `10.0.0.${i}`,
      port: 1,
    }))
    assert.throws(() => signDescriptor({ ...fields, endpoints: many }, seed), DescriptorError)
    const most = signDescriptor({ ...fields, endpoints: many.slice(1) }, seed)
    assert.equal(decodeDescriptor(most).endpoints.length, MAX_DESCRIPTOR_ENDPOINTS)
  })

  it('throws only DescriptorError on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 260 }), (bytes) => {
        try {
          decodeDescriptor(Uint8Array.of(0x50, 0x49, 0x4d, 0x44, 1, ...bytes))
        } catch (error) {
          assert.ok(error instanceof DescriptorError)
        }
      }),
    )
  })
})

describe('blinded record keys (dht/blinded-records.ts)', () => {
  it('match the docs/protocol.md vectors on both backends', () => {
    for (const backend of [nativeBackend, nobleBackend]) {
      const k = blindedRecordKey(fromHex(PUBLIC_KEY), 19675, backend)
      assert.equal(hex(k), '69af1b932bf1ad3b1aefe37508e074ba151f7f4676711971ca7ee2175e098b9a')
      const bodyKey = recordBodyKey(fromHex(PUBLIC_KEY), 19675, backend)
      assert.equal(hex(bodyKey), 'feac05a434140be26ecd64779ce8e59794a5f6c5e674f4096087e0ad775934e7')
    }
  })
})

describe('DHT ids (dht/node-id.ts, dht/relay-info-hash.ts)', () => {
  it('match the docs/protocol.md vectors', () => {
    assert.equal(hex(dhtNodeId(fromHex(PUBLIC_KEY))), '3b285b108dc925790cc484fdd5de13e4611961a2')
    assert.equal(
      hex(dhtNodeId(fromHex(PUBLIC_KEY), nobleBackend)),
      '3b285b108dc925790cc484fdd5de13e4611961a2',
    )
    assert.equal(hex(RELAY_INFO_HASH), 'ffaf979961aa4b24179a19f2a9a3344efb47836f')
  })
})

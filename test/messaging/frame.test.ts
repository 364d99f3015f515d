import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { packAcks } from '../../bridge/messaging/ack-queue.js'
import { MAX_FRAME_BYTES } from '../../bridge/messaging/envelope.js'
import {
  ACK_HEADER_BYTES,
  type AckEntry,
  ackEntryBytes,
  DATA_HEADER_BYTES,
  decodeFrame,
  EPHEMERAL_HEADER_BYTES,
  encodeFrame,
  type Frame,
  FrameError,
  MAX_CHUNKS,
} from '../../bridge/wire/frame.js'

const hex = (h: string) => new Uint8Array(Buffer.from(h, 'hex'))
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const utf8 = (s: string) => new TextEncoder().encode(s)
const stream = hex('0102030405060708')

/** docs/protocol.md "Messaging frames", read verbatim. */
const doc = readFileSync(new URL('../../docs/protocol.md', import.meta.url), 'utf8')
const section = doc.slice(doc.indexOf('## Messaging frames'))

const vectors: [string, Frame][] = [
  [
    'DATA',
    {
      type: 'data',
      reliable: true,
      stream,
      seq: 5,
      id: new Uint8Array(16).fill(0x11),
      timestamp: 1_700_000_000_000,
      index: 1,
      count: 3,
      body: utf8('hi'),
    },
  ],
  [
    'ACK',
    {
      type: 'ack',
      stream,
      entries: [
        { seq: 5, chunks: 'stored' },
        { seq: 6, chunks: [0, 2, 9] },
      ],
    },
  ],
  [
    'EPHEMERAL',
    {
      type: 'ephemeral',
      id: new Uint8Array(16).fill(0x22),
      timestamp: 1_700_000_000_001,
      body: utf8('typing'),
    },
  ],
]

const frameError = (code: string) => (err: unknown) => err instanceof FrameError && err.code === code

describe('messaging frames', () => {
  for (const [name, frame] of vectors) {
    it(`${name} vector of docs/protocol.md encodes and decodes`, () => {
      const bytes = encodeFrame(frame)
      assert.ok(section.includes(`\n    ${toHex(bytes)}\n`), `${toHex(bytes)} is in the doc`)
      assert.deepEqual(decodeFrame(bytes), frame)
    })
  }

  it('the sizes the doc states follow from MAX_FRAME_BYTES', () => {
    assert.ok(section.includes(`\`MAX_FRAME_BYTES\` = ${MAX_FRAME_BYTES}`))
    assert.ok(section.includes(`⌈L / ${MAX_FRAME_BYTES - DATA_HEADER_BYTES}⌉`))
    assert.ok(section.includes(`body ≤ ${MAX_FRAME_BYTES - EPHEMERAL_HEADER_BYTES} bytes`))
  })

  it('round-trips any valid frame', () => {
    const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n })
    const data = fc
      .record({
        reliable: fc.boolean(),
        stream: bytes(8),
        seq: fc.integer({ min: 0, max: 0xffffffff }),
        id: bytes(16),
        timestamp: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
        count: fc.integer({ min: 1, max: MAX_CHUNKS }),
        body: fc.uint8Array({ maxLength: 800 }),
      })
      .chain((r) =>
        fc.integer({ min: 0, max: r.count - 1 }).map((index) => ({ type: 'data' as const, ...r, index })),
      )
    const entry = fc
      .record({
        seq: fc.integer({ min: 0, max: 0xffffffff }),
        chunks: fc.oneof(
          fc.constant('stored' as const),
          fc
            .uniqueArray(fc.integer({ min: 0, max: MAX_CHUNKS - 1 }), { minLength: 1, maxLength: 20 })
            .map((a) => a.sort((x, y) => x - y)),
        ),
      })
      .map((e): AckEntry => ({ ...e }))
    const ack = fc.record({
      type: fc.constant('ack' as const),
      stream: bytes(8),
      entries: fc.array(entry, { minLength: 1, maxLength: 30 }),
    })
    const ephemeral = fc.record({
      type: fc.constant('ephemeral' as const),
      id: bytes(16),
      timestamp: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
      body: fc.uint8Array({ maxLength: 800 }),
    })
    fc.assert(
      fc.property(fc.oneof(data, ack, ephemeral), (frame: Frame) => {
        assert.deepEqual(decodeFrame(encodeFrame(frame)), { ...frame })
      }),
    )
  })

  it('refuses malformed frames with typed errors', () => {
    const data = encodeFrame(vectors[0]![1])
    const ack = encodeFrame(vectors[1]![1])
    const cases: [string, Uint8Array, string][] = [
      ['empty', new Uint8Array(0), 'FRAME_LENGTH'],
      ['unknown type', Uint8Array.of(9, 0, 0), 'FRAME_TYPE'],
      ['short DATA', data.subarray(0, DATA_HEADER_BYTES - 1), 'FRAME_LENGTH'],
      ['unknown flag', Uint8Array.from(data, (b, i) => (i === 1 ? 3 : b)), 'FRAME_FIELD'],
      ['index ≥ count', Uint8Array.from(data, (b, i) => (i === 39 ? 3 : b)), 'FRAME_FIELD'],
      ['count 0', Uint8Array.from(data, (b, i) => (i === 41 || i === 39 ? 0 : b)), 'FRAME_FIELD'],
      ['timestamp ≥ 2^53', Uint8Array.from(data, (b, i) => (i === 30 ? 0xff : b)), 'FRAME_FIELD'],
      ['ACK without entries', hex('02010203040506070800'), 'FRAME_LENGTH'],
      ['ACK n = 0', hex('020102030405060708000000000500'), 'FRAME_FIELD'],
      ['ACK cut short', ack.subarray(0, ack.length - 1), 'FRAME_LENGTH'],
      ['ACK trailing byte', new Uint8Array([...ack, 0]), 'FRAME_LENGTH'],
      ['ACK bitmap ending in 0', hex('0201020304050607080100000005028000'), 'FRAME_FIELD'],
      ['short EPHEMERAL', hex('03'), 'FRAME_LENGTH'],
    ]
    for (const [name, bytes, code] of cases) assert.throws(() => decodeFrame(bytes), frameError(code), name)
  })

  it('decodes random bytes to a frame or a FrameError, nothing else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 900 }), (bytes) => {
        try {
          decodeFrame(bytes)
        } catch (err) {
          assert.ok(err instanceof FrameError, String(err))
        }
      }),
      { numRuns: 2000 },
    )
  })

  it('packs many acknowledgements into as few frames as fit MAX_FRAME_BYTES', () => {
    const entries: AckEntry[] = Array.from({ length: 600 }, (_, seq) =>
      seq % 3 ? { seq, chunks: 'stored' } : { seq, chunks: [0, 5, 70] },
    )
    const frames = packAcks(stream, entries, MAX_FRAME_BYTES)
    const total = entries.reduce((sum, e) => sum + ackEntryBytes(e), 0)
    const fewest = Math.ceil(total / (MAX_FRAME_BYTES - ACK_HEADER_BYTES))
    assert.ok(frames.length <= fewest + 1, `${frames.length} frames for ${total} bytes`)
    for (const frame of frames) assert.ok(encodeFrame(frame).length <= MAX_FRAME_BYTES)
    assert.deepEqual(
      frames.flatMap((f) => f.entries),
      entries,
    )
  })
})

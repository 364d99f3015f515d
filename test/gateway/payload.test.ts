import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import {
  decodeStanzaPayload,
  encodeStanzaPayload,
  PayloadError,
  type StanzaPayload,
} from '../../bridge/wire/stanza-payload.js'

const id = Uint8Array.from({ length: 16 }, (_, i) => i)
const id2 = Uint8Array.from({ length: 16 }, (_, i) => 0x10 + i)
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const bytes = (h: string) => new Uint8Array(Buffer.from(h, 'hex'))

/** docs/protocol.md "Gateway payloads" → "Vectors", verbatim. */
const VECTORS: Array<[StanzaPayload, string]> = [
  [
    { kind: 'message', type: 'chat', id, body: 'Hi ✓', flags: ['request', 'markable'], chatState: 'active' },
    '01010110000102030405060708090a0b0c0d0e0f0206486920e29c93060103070101',
  ],
  [
    { kind: 'message', type: 'chat', id: id2, receipt: id, marker: { type: 'displayed', id } },
    '01010110101112131415161718191a1b1c1d1e1f0810000102030405060708090a0b0c0d0e0f091102000102030405060708090a0b0c0d0e0f',
  ],
  [
    { kind: 'presence', type: 'subscribe', status: 'Alice, from the park' },
    '01030101020314416c6963652c2066726f6d20746865207061726b',
  ],
  [{ kind: 'presence', type: 'available', show: 'dnd', status: 'busy' }, '0103010100020103030462757379'],
]

const section = (() => {
  const doc = readFileSync(new URL('../../docs/protocol.md', import.meta.url), 'utf8')
  return doc.slice(doc.indexOf('## Gateway payloads'))
})()

function refused(hexOrBytes: string | Uint8Array, code: string): void {
  const input = typeof hexOrBytes === 'string' ? bytes(hexOrBytes) : hexOrBytes
  assert.throws(
    () => decodeStanzaPayload(input),
    (err) => err instanceof PayloadError && err.code === code,
  )
}

describe('gateway payloads', () => {
  it('encode to the vectors of docs/protocol.md and decode back', () => {
    assert.ok(section.startsWith('## Gateway payloads'))
    for (const [payload, vector] of VECTORS) {
      assert.ok(section.includes(`\`${vector}\``), `docs/protocol.md lacks ${vector}`)
      assert.equal(hex(encodeStanzaPayload(payload)), vector)
      assert.deepEqual(decodeStanzaPayload(bytes(vector)), payload)
    }
  })

  it('is canonical: empty text is absent, every field round-trips', () => {
    const full: StanzaPayload = {
      kind: 'message',
      type: 'normal',
      id,
      body: 'b',
      subject: 's',
      thread: { id: 't', parent: 'p' },
      flags: ['request', 'markable', 'noStore', 'noPermanentStore', 'store', 'noCopy'],
      chatState: 'gone',
      receipt: id2,
      marker: { type: 'acknowledged', id: id2 },
      replace: id2,
      oob: { url: 'https://example.org/a.png', description: 'a' },
    }
    assert.deepEqual(decodeStanzaPayload(encodeStanzaPayload(full)), full)
    assert.deepEqual(
      encodeStanzaPayload({ kind: 'message', type: 'chat', id, body: '', subject: '' }),
      encodeStanzaPayload({ kind: 'message', type: 'chat', id }),
    )
  })

  it('refuses what a canonical encoder never writes', () => {
    const head = '0101' + '0110' + hex(id)
    refused('', 'PAYLOAD_LENGTH')
    refused('0201', 'PAYLOAD_VERSION')
    refused('0104', 'PAYLOAD_KIND')
    refused('0101', 'PAYLOAD_FIELD') // no id
    refused(`${head}0201610201 62`.replaceAll(' ', ''), 'PAYLOAD_FIELD') // repeated body
    refused(`${head}030161020161`, 'PAYLOAD_FIELD') // subject before body
    refused(`${head}0d0161`, 'PAYLOAD_FIELD') // unknown tag
    refused(`${head}028100`, 'PAYLOAD_VALUE') // length 0 in two bytes
    refused(`${head}0200`, 'PAYLOAD_TEXT') // empty body
    refused(`${head}0201c3`, 'PAYLOAD_TEXT') // not UTF-8
    refused(`${head}020100`, 'PAYLOAD_TEXT') // NUL: not an XML character
    refused(`${head}0203efbfbf`, 'PAYLOAD_TEXT') // U+FFFF
    refused(`${head}050161`, 'PAYLOAD_FIELD') // thread parent without a thread
    refused(`${head}060140`, 'PAYLOAD_VALUE') // unknown flag bit
    refused(`${head}060100`, 'PAYLOAD_VALUE') // no flag set
    refused(`${head}070106`, 'PAYLOAD_VALUE') // unknown chat state
    refused(`${head}08020000`, 'PAYLOAD_LENGTH') // short receipt id
    refused(`${head}020561`, 'PAYLOAD_LENGTH') // runs past the end
    refused(`${head}02ffffff7f`, 'PAYLOAD_LENGTH') // 4-byte length
    refused('0103010107', 'PAYLOAD_VALUE') // unknown presence type
    refused('0103', 'PAYLOAD_FIELD') // presence without type
  })

  it('refuses oversized fields when encoding and decoding', () => {
    const long = 'x'.repeat(1025)
    assert.throws(
      () => encodeStanzaPayload({ kind: 'message', type: 'chat', id, subject: long }),
      (err) => err instanceof PayloadError && err.code === 'PAYLOAD_LENGTH',
    )
    const field = new Uint8Array([0x03, 0x81, 0x08, ...new TextEncoder().encode(long)])
    refused(new Uint8Array([...bytes('0101'), 0x01, 0x10, ...id, ...field]), 'PAYLOAD_LENGTH')
  })

  it('random bytes: a payload or a PayloadError, never anything else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (input) => {
        try {
          const payload = decodeStanzaPayload(input)
          // Whatever decodes is canonical: it encodes to the same bytes.
          assert.equal(hex(encodeStanzaPayload(payload)), hex(input))
        } catch (err) {
          if (!(err instanceof PayloadError)) throw err
        }
      }),
      { numRuns: 5000 },
    )
    // Mutations of valid payloads reach deeper than random bytes.
    fc.assert(
      fc.property(
        fc.constantFrom(...VECTORS.map(([, v]) => bytes(v))),
        fc.nat(),
        fc.integer({ min: 0, max: 255 }),
        (vector, at, value) => {
          const input = vector.slice()
          input[at % input.length] = value
          try {
            assert.equal(hex(encodeStanzaPayload(decodeStanzaPayload(input))), hex(input))
          } catch (err) {
            if (!(err instanceof PayloadError)) throw err
          }
        },
      ),
      { numRuns: 5000 },
    )
  })
})

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { CELL_LENGTH, decodeCell, encodeCell, OnionWireError } from '../../bridge/wire/cell.js'
import {
  decodeRelayMessage,
  encodeRelayMessage,
  MAX_RELAY_DATA,
  RELAY_PLAINTEXT_LENGTH,
} from '../../bridge/wire/relay-message.js'
import { decodeRendezvous, encodeRendezvous, RENDEZVOUS_LENGTH } from '../../bridge/wire/rendezvous.js'

const code = (expected: string) => (error: unknown) =>
  error instanceof OnionWireError && error.code === expected

const relayCell = () =>
  encodeCell({ command: 'relay', circuitId: 7, sequence: 1, body: new Uint8Array(CELL_LENGTH - 14).fill(9) })

describe('cell decoder refuses', () => {
  it('a wrong length, kind, command or circuit id', () => {
    assert.throws(() => decodeCell(relayCell().subarray(1)), code('CELL_LENGTH'))
    assert.throws(() => decodeCell(new Uint8Array(CELL_LENGTH + 1)), code('CELL_LENGTH'))
    const kind = relayCell()
    kind[0] = 0x64
    assert.throws(() => decodeCell(kind), code('CELL_KIND'))
    const command = relayCell()
    command[5] = 99
    assert.throws(() => decodeCell(command), code('CELL_COMMAND'))
    const id = relayCell()
    id.fill(0, 1, 5)
    assert.throws(() => decodeCell(id), code('CELL_CIRCUIT_ID'))
  })

  it('a sequence beyond 2^53 − 1', () => {
    const cell = relayCell()
    cell.fill(0xff, 6, 14)
    assert.throws(() => decodeCell(cell), code('CELL_SEQUENCE'))
  })

  it('non-zero padding in CREATE, CREATED and DESTROY', () => {
    for (const cell of [
      encodeCell({
        command: 'create',
        circuitId: 1,
        sequence: 0,
        nodeKey: new Uint8Array(32),
        ephemeral: new Uint8Array(32),
      }),
      encodeCell({
        command: 'created',
        circuitId: 1,
        sequence: 0,
        ephemeral: new Uint8Array(32),
        auth: new Uint8Array(32),
      }),
      encodeCell({ command: 'destroy', circuitId: 1, sequence: 0, reason: 1 }),
    ]) {
      cell[CELL_LENGTH - 1] = 1
      assert.throws(() => decodeCell(cell), code('CELL_PADDING'))
    }
  })

  it('and the encoder refuses bad fields', () => {
    assert.throws(
      () => encodeCell({ command: 'relay', circuitId: 0, sequence: 0, body: new Uint8Array(1010) }),
      code('CELL_CIRCUIT_ID'),
    )
    assert.throws(
      () => encodeCell({ command: 'relay', circuitId: 1, sequence: 0, body: new Uint8Array(1009) }),
      code('RELAY_FIELD'),
    )
  })
})

describe('relay message decoder refuses', () => {
  it('an unknown command, a length beyond the plaintext, non-zero padding, wrong field sizes', () => {
    const plain = encodeRelayMessage({ command: 'data', data: Uint8Array.of(1, 2) })
    assert.throws(
      () => decodeRelayMessage(Uint8Array.from(plain, (b, i) => (i === 0 ? 200 : b))),
      code('RELAY_COMMAND'),
    )
    const long = plain.slice()
    long[1] = 0xff
    assert.throws(() => decodeRelayMessage(long), code('RELAY_LENGTH'))
    const padded = plain.slice()
    padded[RELAY_PLAINTEXT_LENGTH - 1] = 1
    assert.throws(() => decodeRelayMessage(padded), code('CELL_PADDING'))
    const ack = encodeRelayMessage({ command: 'data', data: Uint8Array.of(0, 0) })
    ack[0] = 9 // introduceAck carries exactly 1 byte
    assert.throws(() => decodeRelayMessage(ack), code('RELAY_LENGTH'))
    assert.throws(() => decodeRelayMessage(plain.subarray(1)), code('RELAY_LENGTH'))
    assert.throws(
      () => encodeRelayMessage({ command: 'data', data: new Uint8Array(MAX_RELAY_DATA + 1) }),
      code('RELAY_LENGTH'),
    )
    assert.throws(
      () =>
        encodeRelayMessage({
          command: 'extend',
          nodeKey: new Uint8Array(32),
          host: '01.2.3.4',
          port: 1,
          ephemeral: new Uint8Array(32),
        }),
      code('RELAY_FIELD'),
    )
  })
})

describe('fuzz: the onion decoders throw nothing but OnionWireError', () => {
  const onlyWireErrors = (decode: (b: Uint8Array) => unknown) => (bytes: Uint8Array) => {
    try {
      decode(bytes)
    } catch (error) {
      assert.ok(error instanceof OnionWireError, String(error))
    }
  }
  it('on random and mutated cells, relay plaintexts and records', () => {
    fc.assert(fc.property(fc.uint8Array({ minLength: 0, maxLength: 1100 }), onlyWireErrors(decodeCell)), {
      numRuns: 500,
    })
    const cell = fc
      .tuple(
        fc.uint8Array({ minLength: CELL_LENGTH, maxLength: CELL_LENGTH }),
        fc.integer({ min: 1, max: 4 }),
      )
      .map(([bytes, command]) => {
        bytes[0] = 0xc1
        bytes[5] = command
        return bytes
      })
    fc.assert(fc.property(cell, onlyWireErrors(decodeCell)), { numRuns: 500 })
    const plain = fc
      .tuple(
        fc.uint8Array({ minLength: RELAY_PLAINTEXT_LENGTH, maxLength: RELAY_PLAINTEXT_LENGTH }),
        fc.integer({ min: 0, max: 12 }),
        fc.integer({ min: 0, max: 1000 }),
      )
      .map(([bytes, command, length]) => {
        bytes[0] = command
        bytes[1] = length >> 8
        bytes[2] = length & 0xff
        bytes.fill(0, 3 + length)
        return bytes
      })
    fc.assert(fc.property(plain, onlyWireErrors(decodeRelayMessage)), { numRuns: 1000 })
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 700 }), onlyWireErrors(decodeRendezvous)),
      {
        numRuns: 500,
      },
    )
  })
})

describe('rendezvous records', () => {
  const intro = (i: number) => ({
    nodeKey: new Uint8Array(32).fill(i),
    host: `192.0.2.${i}`,
    port: 4000 + i,
    authKey: new Uint8Array(32).fill(0x80 + i),
  })

  it('are the same size whatever the number of intro points, and round-trip', () => {
    for (const n of [1, 3, 8]) {
      const record = {
        validUntil: 1_800_000_000_000,
        introPoints: Array.from({ length: n }, (_, i) => intro(i + 1)),
      }
      const bytes = encodeRendezvous(record)
      assert.equal(bytes.length, RENDEZVOUS_LENGTH)
      assert.deepEqual(decodeRendezvous(bytes), record)
    }
  })

  it('refuse non-zero padding and any other length', () => {
    const bytes = encodeRendezvous({ validUntil: 1, introPoints: [intro(1)] })
    const tampered = bytes.slice()
    tampered[RENDEZVOUS_LENGTH - 1] = 1
    assert.throws(() => decodeRendezvous(tampered), /padding is not zero/)
    assert.throws(() => decodeRendezvous(bytes.subarray(0, 80)), /must be 570/)
  })
})

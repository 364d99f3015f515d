import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { identityFromSeed } from '../../bridge/crypto/identity.js'
import { checkStamp, mintStamp, stampWork } from '../../bridge/crypto/stamp.js'
import { mailboxAddress, mailboxPeriods, mailboxPeriodsSince } from '../../bridge/onion/mailbox-address.js'
import { OnionWireError } from '../../bridge/wire/cell.js'
import { ENVELOPE_LENGTH } from '../../bridge/wire/envelope.js'
import {
  decodeAck,
  decodeDeposit,
  decodeFetch,
  decodeItem,
  decodeResult,
  encodeAck,
  encodeDeposit,
  encodeFetch,
  encodeResult,
  MAX_ACK_IDS,
  MAX_MAILBOX_ITEM,
  mailboxItemId,
} from '../../bridge/wire/mailbox.js'
import { decodeRelayMessage, encodeRelayMessage, MAX_RELAY_DATA } from '../../bridge/wire/relay-message.js'

const protocol = readFileSync(new URL('../../docs/protocol.md', import.meta.url), 'utf8')
const section = protocol.slice(protocol.indexOf('## Mailboxes'), protocol.indexOf('## Messaging frames'))
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const seed = Buffer.from('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'hex')

describe('docs/protocol.md "Mailboxes" vectors', () => {
  const { key, id } = mailboxAddress(identityFromSeed(seed).publicKey, 20000)
  const item = new Uint8Array(959).fill(0x2a)
  const expiry = 1_800_000_000

  it('mailbox key and id', () => {
    assert.ok(section.includes(`mailbox key   ${hex(key)}`))
    assert.ok(section.includes(`mailbox id    ${hex(id)}`))
  })

  it('item id, stamp work, stamp and DEPOSIT data', () => {
    const stamp = mintStamp({ mailboxId: id, item, expiry }, 8)
    assert.ok(section.includes(`item id       ${hex(mailboxItemId(item))}`))
    assert.ok(section.includes(`work          ${stampWork(item.length, 8)}`))
    assert.ok(section.includes(`stamp         ${hex(stamp)}`))
    const data = encodeDeposit({ mailboxId: id, expiry, stamp, item })
    assert.ok(section.includes(`DEPOSIT data  ${hex(data.subarray(0, 32))} ‖ item`))
    assert.ok(checkStamp({ mailboxId: id, item, expiry }, stamp, 8))
    assert.ok(!checkStamp({ mailboxId: id, item, expiry: expiry + 1 }, stamp, 8) || stampWork(959, 8) < 2n)
  })
})

describe('docs/protocol.md "Mailboxes" → "Cursors" vector', () => {
  const fetch = {
    mailboxKey: new Uint8Array(32).fill(0x11),
    signature: new Uint8Array(64).fill(0x22),
    skip: 3,
    from: 1_764_650_000_123,
  }
  const result = { status: 0, sent: 3, more: 0, next: 1_764_650_000_456 }

  it('FETCH with a cursor and RESULT with next, as documented, round-trip', () => {
    const data = encodeFetch(fetch)
    assert.equal(data.length, 106)
    assert.ok(section.includes(`FETCH tail    ${hex(data.subarray(96))}   (`))
    assert.deepEqual(decodeFetch(data), fetch)
    assert.ok(section.includes(`RESULT        ${hex(encodeResult(result))}\n`))
    assert.deepEqual(decodeResult(encodeResult(result)), result)
  })

  it('without cursor both stay as before (98 and 7 bytes), and decode without one', () => {
    const { from: _, ...old } = fetch
    assert.equal(encodeFetch(old).length, 98)
    assert.equal('from' in decodeFetch(encodeFetch(old)), false)
    const { next: __, ...plain } = result
    assert.equal(encodeResult(plain).length, 7)
    assert.equal('next' in decodeResult(encodeResult(plain)), false)
  })

  it('refuses other lengths and cursors past 2^53 − 1', () => {
    const data = encodeFetch(fetch)
    const answer = encodeResult(result)
    const bad: Array<() => unknown> = [
      () => decodeFetch(data.subarray(0, 105)),
      () => decodeFetch(new Uint8Array([...data, 0])),
      () => decodeResult(answer.subarray(0, 14)),
      () => decodeResult(answer.subarray(0, 8)),
      () => decodeFetch(Uint8Array.from([...data.subarray(0, 98), 0, 0x20, 0, 0, 0, 0, 0, 0])),
      () => decodeResult(Uint8Array.from([...answer.subarray(0, 7), 0xff, 0, 0, 0, 0, 0, 0, 0])),
      () => encodeFetch({ ...fetch, from: -1 }),
      () => encodeResult({ ...result, next: 2 ** 53 }),
    ]
    for (const call of bad) assert.throws(call, OnionWireError)
  })
})

describe('mailbox messages: strict decoding', () => {
  const key = new Uint8Array(32).fill(1)
  const signature = new Uint8Array(64).fill(2)

  it('a full envelope deposit fills one relay message exactly', () => {
    assert.equal(MAX_MAILBOX_ITEM, ENVELOPE_LENGTH)
    const deposit = {
      mailboxId: new Uint8Array(20),
      expiry: 5,
      stamp: new Uint8Array(8),
      item: new Uint8Array(959),
    }
    assert.equal(encodeDeposit(deposit).length, MAX_RELAY_DATA)
    const round = decodeRelayMessage(encodeRelayMessage({ command: 'mailboxDeposit', deposit }))
    assert.deepEqual(round, { command: 'mailboxDeposit', deposit })
  })

  it('round-trips FETCH, ACK, RESULT', () => {
    assert.deepEqual(decodeFetch(encodeFetch({ mailboxKey: key, signature, skip: 7 })), {
      mailboxKey: key,
      signature,
      skip: 7,
    })
    const ids = Array.from({ length: MAX_ACK_IDS }, (_, i) => new Uint8Array(16).fill(i))
    assert.deepEqual(decodeAck(encodeAck({ mailboxKey: key, signature, ids })).ids, ids)
    assert.deepEqual(decodeResult(encodeResult({ status: 1, sent: 2, more: 3 })), {
      status: 1,
      sent: 2,
      more: 3,
    })
  })

  it('refuses wrong lengths, counts and codes with OnionWireError', () => {
    const fetch = encodeFetch({ mailboxKey: key, signature, skip: 0 })
    const ack = encodeAck({ mailboxKey: key, signature, ids: [new Uint8Array(16)] })
    const bad: Array<() => unknown> = [
      () => decodeDeposit(new Uint8Array(32)),
      () => decodeFetch(fetch.subarray(1)),
      () => decodeFetch(new Uint8Array([...fetch, 0])),
      () => decodeAck(ack.subarray(0, ack.length - 1)),
      () => decodeAck(Uint8Array.from([...ack.subarray(0, 96), 2, ...ack.subarray(97)])),
      () => decodeItem(new Uint8Array(4)),
      () => decodeResult(Uint8Array.of(99, 0, 0, 0, 0, 0, 0)),
      () => encodeAck({ mailboxKey: key, signature, ids: [] }),
      () => encodeAck({ mailboxKey: key, signature, ids: Array(MAX_ACK_IDS + 1).fill(new Uint8Array(16)) }),
      () =>
        encodeDeposit({
          mailboxId: new Uint8Array(20),
          expiry: 1,
          stamp: new Uint8Array(8),
          item: new Uint8Array(960),
        }),
    ]
    for (const call of bad) assert.throws(call, OnionWireError)
  })

  it('a recipient fetches every period an item may still live in', () => {
    const day = 86_400_000
    assert.deepEqual(
      mailboxPeriods(100 * day + 5, day, 14 * day),
      Array.from({ length: 15 }, (_, i) => 100 - i),
    )
  })

  it('a sync after one at `since` fetches the periods since, and one before it for skew, within the retention', () => {
    const day = 86_400_000
    assert.deepEqual(mailboxPeriodsSince(100 * day + 600_000, 100 * day + 300_000, day, 14 * day), [100, 99])
    assert.deepEqual(mailboxPeriodsSince(102 * day, 100 * day + 5, day, 14 * day), [102, 101, 100, 99])
    assert.equal(mailboxPeriodsSince(100 * day, 0, day, 14 * day).length, 15)
  })
})

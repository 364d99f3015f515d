import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { GroupWireError } from '../../../bridge/wire/group-bytes.js'
import { decodeGroupControl, encodeGroupControl } from '../../../bridge/wire/group-control.js'
import { decodeGroupBody, encodeGroupBody, type GroupBody } from '../../../bridge/wire/group-message.js'
import { encodeStanzaPayload } from '../../../bridge/wire/stanza-payload.js'
import { hex } from '../../crypto/helpers.js'

const protocol = readFileSync(new URL('../../../docs/protocol.md', import.meta.url), 'utf8')
const TITLE = '\n### Occupants across bridges (presence, private messages)\n'

/** The subsection, whitespace removed so hex wrapped over lines reads as one string. */
function subsection(): string {
  const start = protocol.indexOf(TITLE)
  assert.ok(start >= 0, 'docs/protocol.md lacks the occupants subsection')
  const end = protocol.indexOf('\n### ', start + 1)
  return protocol.slice(start, end).replace(/\s+/g, '')
}

const GROUP = hex('03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8')
const PRESENCE: GroupBody = { kind: 'presence', show: 'away', status: 'lunch' }
const JOIN: GroupBody = { kind: 'join', nick: 'Bob', presence: { show: 'dnd', status: '' } }
const PAYLOAD = encodeStanzaPayload({
  kind: 'message',
  type: 'chat',
  id: new Uint8Array(16).fill(0x33),
  body: 'psst',
})

const wireError = (code: string) => (err: unknown) => err instanceof GroupWireError && err.code === code
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex')

describe('occupant bodies (docs/protocol.md "Occupants across bridges")', () => {
  it('the vectors are in the document verbatim and decode to what they were made of', () => {
    const text = subsection()
    const privateBody = encodeGroupControl({ type: 'private', group: GROUP, payload: PAYLOAD })
    for (const bytes of [encodeGroupBody(PRESENCE), encodeGroupBody(JOIN), PAYLOAD, privateBody])
      assert.ok(text.includes(toHex(bytes)), `missing ${toHex(bytes)}`)
    assert.deepEqual(decodeGroupBody(hex('060100056c756e6368')), PRESENCE)
    assert.deepEqual(decodeGroupBody(hex('0203426f62030000')), JOIN)
    assert.deepEqual(decodeGroupControl(privateBody), { type: 'private', group: GROUP, payload: PAYLOAD })
  })

  it('a join without a presence keeps its old bytes; plain available is never a tail', () => {
    assert.equal(toHex(encodeGroupBody({ kind: 'join', nick: 'Bob' })), '0203426f62')
    assert.equal(
      toHex(encodeGroupBody({ kind: 'join', nick: 'Bob', presence: { show: 'available', status: '' } })),
      '0203426f62',
    )
    assert.deepEqual(decodeGroupBody(hex('0203426f62')), { kind: 'join', nick: 'Bob' })
    for (const show of ['available', 'away', 'chat', 'dnd', 'xa'] as const) {
      const body: GroupBody = { kind: 'presence', show, status: 'x' }
      assert.deepEqual(decodeGroupBody(encodeGroupBody(body)), body)
    }
  })

  it('refuses what does not match', () => {
    const cases: [string, () => unknown, string][] = [
      ['a plain presence tail on a join', () => decodeGroupBody(hex('0203426f62000000')), 'GROUP_FIELD'],
      ['show code 5', () => decodeGroupBody(hex('06050000')), 'GROUP_FIELD'],
      ['a status cut short', () => decodeGroupBody(hex('060100056c75')), 'GROUP_LENGTH'],
      ['a trailing byte', () => decodeGroupBody(hex('06010000ff')), 'GROUP_LENGTH'],
      ['a presence without show', () => decodeGroupBody(hex('06')), 'GROUP_LENGTH'],
      [
        'a status over 1024 bytes',
        () => encodeGroupBody({ ...PRESENCE, status: 'x'.repeat(1025) }),
        'GROUP_LENGTH',
      ],
      ['a group key cut short', () => decodeGroupControl(hex(`6707${'03'.repeat(31)}`)), 'GROUP_LENGTH'],
      [
        'a private message without payload',
        () => decodeGroupControl(hex(`6707${'03'.repeat(32)}`)),
        'GROUP_FIELD',
      ],
      [
        'a presence payload as a private message',
        () =>
          encodeGroupControl({
            type: 'private',
            group: GROUP,
            payload: encodeStanzaPayload({ kind: 'presence', type: 'available' }),
          }),
        'GROUP_FIELD',
      ],
    ]
    for (const [what, run, code] of cases) assert.throws(run, wireError(code), what)
  })
})

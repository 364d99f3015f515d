import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { identityFromSeed } from '../../../bridge/crypto/identity.js'
import { nativeBackend } from '../../../bridge/crypto/native.js'
import { GroupError } from '../../../bridge/messaging/groups/errors.js'
import { openGroupSeed } from '../../../bridge/messaging/groups/group-key.js'
import { verifyNormal } from '../../../bridge/messaging/groups/message.js'
import { GroupWireError } from '../../../bridge/wire/group-bytes.js'
import { decodeGroupControl, encodeGroupControl, packUpdates } from '../../../bridge/wire/group-control.js'
import {
  decodeGroupBody,
  decodeGroupMessage,
  decodeKeyPackage,
  encodeGroupBody,
  type GroupBody,
  KEY_PACKAGE_BYTES,
  NORMAL_OVERHEAD,
  unpadMailboxMessage,
} from '../../../bridge/wire/group-message.js'
import { decodeSnapshot, encodeSnapshot } from '../../../bridge/wire/group-state.js'
import { decodeUpdate, encodeUpdate, type GroupOp } from '../../../bridge/wire/group-update.js'
import { backends, hex } from '../../crypto/helpers.js'
import { groupError, makeGroup } from './helpers.js'
import { groupVectors, INPUTS } from './vectors.js'

const protocol = readFileSync(new URL('../../../docs/protocol.md', import.meta.url), 'utf8')

/** docs/protocol.md "Groups", whitespace removed so hex wrapped over lines reads as one string. */
function section(): string {
  const start = protocol.indexOf('\n## Groups\n')
  assert.ok(start >= 0, 'docs/protocol.md lacks "## Groups"')
  const end = protocol.indexOf('\n## ', start + 1)
  return protocol.slice(start, end < 0 ? undefined : end).replace(/\s+/g, '')
}

const decoders: [string, (b: Uint8Array) => unknown][] = [
  ['update', decodeUpdate],
  ['snapshot', decodeSnapshot],
  ['message', decodeGroupMessage],
  ['body', decodeGroupBody],
  ['key package', decodeKeyPackage],
  ['control', decodeGroupControl],
  ['mailbox padding', unpadMailboxMessage],
]

const onlyWireErrors = (decode: (b: Uint8Array) => unknown) => (bytes: Uint8Array) => {
  try {
    decode(bytes)
  } catch (err) {
    assert.ok(err instanceof GroupWireError, `${err}`)
  }
}

describe('group vectors (docs/protocol.md "Groups")', () => {
  const native = groupVectors(nativeBackend)

  for (const backend of backends)
    it(`${backend.name}: every derived value is in the document verbatim`, () => {
      const values = groupVectors(backend)
      assert.deepEqual(values, native, 'both backends give the same bytes')
      const text = section()
      for (const [name, value] of Object.entries(values))
        assert.ok(text.includes(value), `"Groups" lacks ${name} ${value}`)
      for (const value of Object.values(INPUTS))
        assert.ok(text.includes(String(value)), `"Groups" lacks input ${value}`)
    })

  it('the vectors decode to what they were made of, and re-encode to the same bytes', () => {
    const genesis = decodeUpdate(hex(native.genesis!))
    assert.equal(genesis.version, 1)
    assert.deepEqual(genesis.ops[0], { op: 'name', name: 'vectors' })
    assert.deepEqual(encodeUpdate(genesis), hex(native.genesis!))
    const snapshot = decodeSnapshot(hex(native.snapshot!))
    assert.equal(snapshot.members.length, 1)
    assert.deepEqual(encodeSnapshot(snapshot), hex(native.snapshot!))
    const normal = decodeGroupMessage(hex(native.normal!))
    assert.equal(normal.mode, 'normal')
    // What a relay checks without the key: the sender's signature.
    assert.ok(normal.mode === 'normal' && verifyNormal(nativeBackend, normal))
    assert.ok(
      normal.mode === 'normal' &&
        !verifyNormal(nativeBackend, { ...normal, timestamp: normal.timestamp + 1 }),
    )
    assert.equal(hex(native.normal!).length, NORMAL_OVERHEAD + hex(native.body!).length)
    assert.deepEqual(decodeGroupBody(hex(native.body!)), { kind: 'subject', subject: 'hello' })
    assert.equal(decodeKeyPackage(hex(native.keyPackage!)).epoch, 2)
    assert.equal(hex(native.keyPackage!).length, KEY_PACKAGE_BYTES)
    const owner = identityFromSeed(hex(INPUTS.ownerSeed))
    const opened = openGroupSeed(nativeBackend, owner, hex(native.groupKey!), {
      nonce: hex(INPUTS.wrapNonce),
      sealed: hex(native.sealedSeed!),
    })
    assert.deepEqual(opened.seed, hex(INPUTS.groupSeed))
    assert.throws(
      () =>
        openGroupSeed(nativeBackend, identityFromSeed(hex(INPUTS.memberSeed)), hex(native.groupKey!), {
          nonce: hex(INPUTS.wrapNonce),
          sealed: hex(native.sealedSeed!),
        }),
      groupError('MESSAGE_AUTH'),
    )
  })

  it('bodies round-trip, and updates pack into bodies under the size given', () => {
    const bodies: GroupBody[] = [
      { kind: 'message', payload: Uint8Array.of(1, 1, 1) },
      { kind: 'join', nick: 'zoë' },
      { kind: 'leave', status: '' },
      { kind: 'nick', nick: 'z' },
      { kind: 'subject', subject: '' },
    ]
    for (const body of bodies) assert.deepEqual(decodeGroupBody(encodeGroupBody(body)), body)
    assert.throws(() => encodeGroupBody({ kind: 'nick', nick: '' }), GroupWireError)
    assert.throws(() => encodeGroupBody({ kind: 'subject', subject: 'bell \u0007' }), GroupWireError)
    const update = hex(native.kick!)
    const packed = packUpdates(Array(100).fill(update), 2000)
    assert.ok(packed.length > 1)
    let total = 0
    for (const body of packed) {
      assert.ok(body.length <= 2000)
      const control = decodeGroupControl(body)
      assert.equal(control.type, 'updates')
      total += control.type === 'updates' ? control.updates.length : 0
    }
    assert.equal(total, 100)
  })
})

describe('hostile group bytes', () => {
  const native = groupVectors(nativeBackend)
  const valid = [
    native.genesis,
    native.snapshot,
    native.normal,
    native.high,
    native.keyPackage,
    native.keyPackageBody,
    native.sync,
    native.body,
  ].map((h) => hex(h!))

  for (const [name, decode] of decoders)
    it(`${name}: random and mutated bytes give a value or a GroupWireError, nothing else`, () => {
      fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), onlyWireErrors(decode)), { numRuns: 1500 })
      const mutation = fc.record({
        base: fc.constantFrom(...valid),
        at: fc.nat(),
        value: fc.integer({ min: 0, max: 255 }),
        cut: fc.nat(),
      })
      fc.assert(
        fc.property(mutation, ({ base, at, value, cut }) => {
          const bytes = base.slice(0, base.length - (cut % 4 === 0 ? cut % base.length : 0))
          if (bytes.length) bytes[at % bytes.length] = value
          onlyWireErrors(decode)(bytes)
        }),
        { numRuns: 1500 },
      )
    })

  it('refuses the cases a strict decoder must', () => {
    const update = hex(native.genesis!)
    const cases: [string, () => unknown, string][] = [
      ['update cut short', () => decodeUpdate(update.subarray(0, update.length - 1)), 'GROUP_LENGTH'],
      [
        'update format 2',
        () => decodeUpdate(Uint8Array.from(update, (b, i) => (i === 0 ? 2 : b))),
        'GROUP_VERSION',
      ],
      [
        'update version 0',
        () => decodeUpdate(Uint8Array.from(update, (b, i) => (i === 36 ? 0 : b))),
        'GROUP_FIELD',
      ],
      [
        'unknown op',
        () => decodeUpdate(Uint8Array.from(update, (b, i) => (i === 107 ? 99 : b))),
        'GROUP_TYPE',
      ],
      ['key package of 136', () => decodeKeyPackage(new Uint8Array(136)), 'GROUP_LENGTH'],
      [
        'message mode 3',
        () => decodeGroupMessage(Uint8Array.from(hex(native.high!), (b, i) => (i === 1 ? 3 : b))),
        'GROUP_TYPE',
      ],
      ['high without body', () => decodeGroupMessage(hex(native.high!).subarray(0, 94)), 'GROUP_LENGTH'],
      ['body kind 9', () => decodeGroupBody(Uint8Array.of(9, 0)), 'GROUP_TYPE'],
      ['body trailing byte', () => decodeGroupBody(Uint8Array.of(5, 0, 0, 0)), 'GROUP_LENGTH'],
      ['text not UTF-8', () => decodeGroupBody(Uint8Array.of(2, 1, 0xff)), 'GROUP_FIELD'],
      ['control of no group', () => decodeGroupControl(Uint8Array.of(1, 1)), 'GROUP_TYPE'],
      ['control type 9', () => decodeGroupControl(Uint8Array.of(0x67, 9)), 'GROUP_TYPE'],
      ['updates count 0', () => decodeGroupControl(Uint8Array.of(0x67, 1, 0, 0)), 'GROUP_FIELD'],
      [
        'snapshot unsorted',
        () => {
          const s = decodeSnapshot(hex(native.snapshot!))
          const m = s.members[0]!
          return encodeSnapshot({ ...s, members: [m, m] })
        },
        'GROUP_FIELD',
      ],
    ]
    for (const [name, run, code] of cases)
      assert.throws(run, (e) => e instanceof GroupWireError && e.code === code, name)
  })

  it('the encoders refuse values their format cannot hold', () => {
    const op = (o: GroupOp) => () =>
      encodeUpdate({
        group: new Uint8Array(32),
        version: 1,
        epoch: 1,
        prevHash: new Uint8Array(32),
        signer: new Uint8Array(32),
        ops: [o],
        signature: new Uint8Array(64),
      })
    assert.throws(op({ op: 'name', name: 'x'.repeat(129) }), GroupWireError)
    assert.throws(op({ op: 'maxMembers', maxMembers: 0 }), GroupWireError)
    assert.throws(
      op({ op: 'put', address: new Uint8Array(31), affiliation: 'member', nick: 'x' }),
      GroupWireError,
    )
    assert.throws(
      () => encodeGroupControl({ type: 'sync', group: new Uint8Array(32), version: -1 }),
      GroupWireError,
    )
  })

  it('a session given hostile bytes refuses them with a GroupError and keeps working', async () => {
    const { members } = await makeGroup(2)
    const [alice, bob] = members
    const bytes = fc.sample(fc.uint8Array({ maxLength: 400 }), 300)
    for (const b of bytes) {
      await assert.rejects(alice!.session.open(b), GroupError)
      await assert.rejects(alice!.session.applyState([b]), GroupError)
    }
    for (const base of valid)
      for (let i = 0; i < base.length; i += 7) {
        const b = base.slice()
        b[i]! ^= 0x80
        await assert.rejects(alice!.session.open(b), GroupError)
      }
    const sealed = await bob!.session.seal({ kind: 'join', nick: 'bob' })
    assert.equal((await alice!.session.open(sealed.message)).body.kind, 'join')
    assert.equal(alice!.session.state?.version, 1)
  })
})

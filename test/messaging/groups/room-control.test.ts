import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { generateIdentity } from '../../../bridge/crypto/identity.js'
import { nativeBackend } from '../../../bridge/crypto/native.js'
import { generateGroupKey } from '../../../bridge/messaging/groups/group-key.js'
import {
  applyUpdate,
  genesisUpdate,
  proposeUpdate,
  type StateChange,
  signUpdate,
} from '../../../bridge/messaging/groups/state.js'
import { GroupWireError } from '../../../bridge/wire/group-bytes.js'
import { decodeGroupBody, encodeGroupBody } from '../../../bridge/wire/group-message.js'
import { decodeSnapshot, encodeSnapshot } from '../../../bridge/wire/group-state.js'
import { decodeUpdate, encodeUpdate, GROUP_LIMITS, type GroupOp } from '../../../bridge/wire/group-update.js'
import { backends, hex } from '../../crypto/helpers.js'
import { groupError, hexOf, makeGroup } from './helpers.js'
import { DESTROY, roomControlVectors } from './room-control-vectors.js'

const protocol = readFileSync(new URL('../../../docs/protocol.md', import.meta.url), 'utf8')
const options = { maxMembers: 1000, backend: nativeBackend }
const wireError = (code: string) => (err: unknown) => err instanceof GroupWireError && err.code === code
const destroyOp = (reason = '', alternate = ''): GroupOp => ({ op: 'destroy', reason, alternate })

/** docs/protocol.md "Room control vectors", whitespace removed so wrapped hex reads as one string. */
function vectorsText(): string {
  const start = protocol.indexOf('#### Room control vectors')
  assert.ok(start >= 0, 'docs/protocol.md lacks "Room control vectors"')
  return protocol.slice(start, protocol.indexOf('\n### ', start)).replace(/\s+/g, '')
}

function setup() {
  const key = generateGroupKey(nativeBackend)
  const [owner, admin, member] = [0, 1, 2].map(() => generateIdentity(nativeBackend))
  const genesis = genesisUpdate(
    key,
    [
      { op: 'name', name: 'room' },
      { op: 'put', address: owner!.publicKey, affiliation: 'owner', nick: 'owner' },
      { op: 'put', address: admin!.publicKey, affiliation: 'admin', nick: 'admin' },
      { op: 'put', address: member!.publicKey, affiliation: 'member', nick: 'member' },
    ],
    options,
  )
  return { key, owner: owner!, admin: admin!, member: member!, s1: genesis.state }
}

describe('room control wire (docs/protocol.md "Room control")', () => {
  const native = roomControlVectors(nativeBackend)

  for (const backend of backends)
    it(`${backend.name}: the destroy update, its snapshot and the role body are in the document verbatim`, () => {
      const values = roomControlVectors(backend)
      assert.deepEqual(values, native, 'both backends give the same bytes')
      const text = vectorsText()
      assert.ok(text.includes(`destroyupdate(215)${native.destroy}`), 'the destroy update')
      assert.ok(text.includes(`snapshotofstate3(173)${native.snapshot}`), 'the snapshot')
      assert.ok(text.includes(`rolebody(34)${native.role}`), 'the role body')
    })

  it('the vectors decode to what they were made of and re-encode to the same bytes', () => {
    const update = decodeUpdate(hex(native.destroy!))
    assert.deepEqual(update.ops, [{ op: 'destroy', ...DESTROY }])
    assert.deepEqual(encodeUpdate(update), hex(native.destroy!))
    const snapshot = decodeSnapshot(hex(native.snapshot!))
    assert.deepEqual(snapshot.destroyed, DESTROY)
    assert.equal(snapshot.config.membersOnly, true)
    assert.deepEqual(encodeSnapshot(snapshot), hex(native.snapshot!))
    const body = decodeGroupBody(hex(native.role!))
    assert.equal(body.kind, 'role')
    assert.deepEqual(encodeGroupBody(body), hex(native.role!))
  })

  it('strict: unknown roles, short or long role bodies, destroy texts over their limits', () => {
    const role = hex(native.role!)
    for (const code of [0, 4, 255]) {
      const bad = role.slice()
      bad[33] = code
      assert.throws(() => decodeGroupBody(bad), wireError('GROUP_FIELD'))
    }
    assert.throws(() => decodeGroupBody(role.subarray(0, 33)), wireError('GROUP_LENGTH'))
    assert.throws(() => decodeGroupBody(Uint8Array.of(...role, 0)), wireError('GROUP_LENGTH'))
    const target = new Uint8Array(32)
    assert.throws(
      () => encodeGroupBody({ kind: 'role', target, role: 'none' as 'visitor' }),
      wireError('GROUP_FIELD'),
    )
    const { key, s1 } = setup()
    const long = (n: number) => 'x'.repeat(n)
    const sign = (op: GroupOp) =>
      signUpdate(key.seed, {
        group: s1.group,
        version: 2,
        epoch: 1,
        prevHash: s1.hash,
        signer: key.publicKey,
        ops: [op],
      })
    assert.throws(() => sign(destroyOp(long(GROUP_LIMITS.destroyReason + 1))), wireError('GROUP_LENGTH'))
    assert.throws(() => sign(destroyOp('', long(GROUP_LIMITS.alternateVenue + 1))), wireError('GROUP_LENGTH'))
    const longest = sign(destroyOp(long(GROUP_LIMITS.destroyReason), long(GROUP_LIMITS.alternateVenue)))
    assert.equal(decodeUpdate(longest).ops.length, 1)
  })
})

describe('destroy in the state chain (terminal)', () => {
  it('an owner destroys: the state keeps its members and says why; nothing may follow, not even from the group key', () => {
    const { key, owner, member, s1 } = setup()
    const destroyed = proposeUpdate(s1, owner, [destroyOp('done', 'next@conference.example')], options)
    assert.ok(destroyed.destroyed)
    assert.equal(destroyed.state.epoch, s1.epoch, 'the epoch stays')
    assert.deepEqual(destroyed.state.destroyed, { reason: 'done', alternate: 'next@conference.example' })
    assert.equal(destroyed.state.members.size, 3)
    assert.equal(applyUpdate(destroyed.state, destroyed.update, options), 'duplicate')
    for (const signer of [owner, key])
      assert.throws(
        () => proposeUpdate(destroyed.state, signer, [{ op: 'name', name: 'revived' }], options),
        groupError('STATE_DESTROYED'),
      )
    // A stale member's successor of the state before (a fork) or a later version: refused the same way.
    const later = signUpdate(owner.seed, {
      group: s1.group,
      version: 5,
      epoch: 2,
      prevHash: destroyed.state.hash,
      signer: owner.publicKey,
      ops: [{ op: 'remove', address: member.publicKey }],
    })
    assert.throws(() => applyUpdate(destroyed.state, later, options), groupError('STATE_DESTROYED'))
  })

  it('admins and members may not destroy; the group key may; a destroy is the only op of its update', () => {
    const { key, owner, admin, member, s1 } = setup()
    for (const signer of [admin, member])
      assert.throws(() => proposeUpdate(s1, signer, [destroyOp()], options), groupError('STATE_NOT_ALLOWED'))
    assert.ok((proposeUpdate(s1, key, [destroyOp()], options) as StateChange).destroyed)
    for (const ops of [
      [{ op: 'name', name: 'x' } as GroupOp, destroyOp()],
      [destroyOp(), { op: 'name', name: 'x' } as GroupOp],
    ])
      assert.throws(() => proposeUpdate(s1, owner, ops, options), groupError('STATE_INVALID'))
  })
})

describe('a destroyed group in the session (real LevelDB)', () => {
  it('every member drops its keys and refuses to seal, open or take keys; the chain is still answered', async () => {
    const { group, members } = await makeGroup(3)
    const [owner, bob, carol] = members as [(typeof members)[0], (typeof members)[0], (typeof members)[0]]
    const early = await carol.session.seal({ kind: 'subject', subject: 'before' })
    const change = await owner.session.change([destroyOp('bye')])
    // Bob hears of it; carol is away (her copy of the update waits in her mailbox).
    assert.deepEqual(
      await group.deliver(owner, [{ to: [bob.identity.publicKey], body: change.sends[0]!.body }]),
      [],
    )
    for (const m of [owner, bob]) {
      assert.deepEqual(m.session.state!.destroyed, { reason: 'bye', alternate: '' })
      assert.deepEqual(m.session.epochs(), [])
      assert.equal(m.session.mailboxIdentity(), undefined)
      await assert.rejects(m.session.seal({ kind: 'subject', subject: 'x' }), groupError('GROUP_DESTROYED'))
    }
    await assert.rejects(bob.session.open(early.message), groupError('GROUP_DESTROYED'))
    // Bob's bridge restarts: the terminal state is what it loads.
    const again = await group.reopen(bob)
    assert.deepEqual(again.session.state!.destroyed, { reason: 'bye', alternate: '' })
    assert.deepEqual(again.session.epochs(), [])
    // Carol, back, asks bob for what she missed and ends the group too.
    const replies = await again.session.syncReplies(carol.identity.publicKey, carol.session.state!.version)
    assert.deepEqual(await group.deliver(again, [{ to: [carol.identity.publicKey], body: replies[0]! }]), [])
    assert.ok(carol.session.state!.destroyed)
    assert.deepEqual(carol.session.epochs(), [])
    assert.equal(hexOf(carol.session.state!.hash), hexOf(owner.session.state!.hash))
  })
})

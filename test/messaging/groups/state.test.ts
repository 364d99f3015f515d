import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { generateIdentity, type Identity } from '../../../bridge/crypto/identity.js'
import { nativeBackend } from '../../../bridge/crypto/native.js'
import { generateGroupKey } from '../../../bridge/messaging/groups/group-key.js'
import {
  applyUpdate,
  applyUpdates,
  type GroupState,
  genesisUpdate,
  proposeUpdate,
  type StateChange,
  signUpdate,
} from '../../../bridge/messaging/groups/state.js'
import { decodeUpdate, type GroupOp } from '../../../bridge/wire/group-update.js'
import { groupError, hexOf } from './helpers.js'

const options = { maxMembers: 1000, backend: nativeBackend }

function setup() {
  const key = generateGroupKey(nativeBackend)
  const [owner, admin, member, outsider] = [0, 1, 2, 3].map(() =>
    generateIdentity(nativeBackend),
  ) as Identity[]
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
  return {
    key,
    owner: owner!,
    admin: admin!,
    member: member!,
    outsider: outsider!,
    genesis,
    s1: genesis.state,
  }
}

const put = (who: Identity, affiliation: 'owner' | 'admin' | 'member', nick = 'x'): GroupOp => ({
  op: 'put',
  address: who.publicKey,
  affiliation,
  nick,
})

/** An update signed by `signer` over `held` with any contents, bypassing proposeUpdate's own check. */
function raw(
  held: GroupState,
  signer: Identity,
  ops: GroupOp[],
  overrides: Partial<{ epoch: number; version: number; prevHash: Uint8Array }> = {},
) {
  return signUpdate(signer.seed, {
    group: held.group,
    version: held.version + 1,
    epoch: held.epoch,
    prevHash: held.hash,
    signer: signer.publicKey,
    ops,
    ...overrides,
  })
}

const apply = (held: GroupState | undefined, bytes: Uint8Array) =>
  applyUpdate(held, bytes, options) as StateChange

describe('group state chain', () => {
  it('the genesis is signed by the group key and makes version 1, epoch 1', () => {
    const { genesis, owner, key } = setup()
    assert.equal(genesis.state.version, 1)
    assert.equal(genesis.state.epoch, 1)
    assert.equal(genesis.added.length, 3)
    assert.equal(genesis.state.members.get(hexOf(owner.publicKey))?.affiliation, 'owner')
    assert.deepEqual(decodeUpdate(genesis.update).signer, key.publicKey)
    // A newcomer verifies it from nothing; the same bytes again are a duplicate.
    const fresh = apply(undefined, genesis.update)
    assert.deepEqual(fresh.state.hash, genesis.state.hash)
    assert.equal(applyUpdate(fresh.state, genesis.update, options), 'duplicate')
  })

  it('a first state not signed by the group key is refused', () => {
    const { s1, owner } = setup()
    const bytes = signUpdate(owner.seed, {
      group: s1.group,
      version: 1,
      epoch: 1,
      prevHash: new Uint8Array(32),
      signer: owner.publicKey,
      ops: [put(owner, 'owner')],
    })
    assert.throws(() => applyUpdate(undefined, bytes, options), groupError('STATE_NOT_ALLOWED'))
  })

  it('owners change anything, admins only members, members only their own nick', () => {
    const { s1, key, owner, admin, member, outsider } = setup()
    const byAdmin = proposeUpdate(s1, admin, [put(outsider, 'member', 'new')], options)
    assert.equal(byAdmin.added.length, 1)
    assert.equal(byAdmin.newEpoch, false)
    assert.throws(
      () => proposeUpdate(s1, admin, [put(outsider, 'admin')], options),
      groupError('STATE_NOT_ALLOWED'),
    )
    assert.throws(
      () => proposeUpdate(s1, admin, [put(member, 'admin')], options),
      groupError('STATE_NOT_ALLOWED'),
    )
    assert.throws(
      () => proposeUpdate(s1, admin, [{ op: 'remove', address: owner.publicKey }], options),
      groupError('STATE_NOT_ALLOWED'),
    )
    assert.throws(
      () => proposeUpdate(s1, admin, [{ op: 'name', name: 'mine' }], options),
      groupError('STATE_NOT_ALLOWED'),
    )
    assert.throws(
      () => proposeUpdate(s1, member, [put(outsider, 'member')], options),
      groupError('STATE_NOT_ALLOWED'),
    )
    assert.throws(
      () => proposeUpdate(s1, member, [put(member, 'admin')], options),
      groupError('STATE_NOT_ALLOWED'),
    )
    const nick = proposeUpdate(s1, member, [put(member, 'member', 'renamed')], options)
    assert.equal(nick.changed[0]?.nick, 'renamed')
    assert.throws(
      () => proposeUpdate(s1, outsider, [put(outsider, 'member')], options),
      groupError('STATE_NOT_ALLOWED'),
    )
    const promoted = proposeUpdate(s1, owner, [put(admin, 'owner'), { op: 'mode', mode: 'high' }], options)
    assert.equal(promoted.state.config.mode, 'high')
    assert.equal(promoted.configChanged, true)
    // The group key acts as an owner; another group's key is nobody here.
    assert.equal(proposeUpdate(s1, key, [{ op: 'name', name: 'x' }], options).state.config.name, 'x')
    assert.throws(
      () => proposeUpdate(s1, setup().key, [{ op: 'name', name: 'x' }], options),
      groupError('STATE_NOT_ALLOWED'),
    )
  })

  it('removing or banning starts a new epoch, and the rules hold', () => {
    const { s1, owner, admin, member, outsider } = setup()
    const kick = proposeUpdate(s1, admin, [{ op: 'remove', address: member.publicKey }], options)
    assert.equal(kick.newEpoch, true)
    assert.equal(kick.state.epoch, 2)
    assert.deepEqual(kick.removed, [member.publicKey])
    // Removal without a new epoch is refused, even when signed correctly.
    assert.throws(
      () => apply(s1, raw(s1, admin, [{ op: 'remove', address: member.publicKey }])),
      groupError('STATE_INVALID'),
    )
    assert.throws(() => apply(s1, raw(s1, owner, [], { epoch: 3 })), groupError('STATE_INVALID'))
    const ban = proposeUpdate(s1, admin, [{ op: 'ban', address: member.publicKey }], options)
    assert.deepEqual(ban.banned, [member.publicKey])
    assert.equal(ban.state.members.has(hexOf(member.publicKey)), false)
    assert.throws(
      () => proposeUpdate(ban.state, owner, [put(member, 'member')], options),
      groupError('STATE_INVALID'),
    )
    const back = proposeUpdate(
      ban.state,
      owner,
      [{ op: 'unban', address: member.publicKey }, put(member, 'member')],
      options,
    )
    assert.equal(back.added.length, 1)
    // Pre-emptive ban of an outsider, and nobody removes the last owner.
    assert.equal(
      proposeUpdate(s1, admin, [{ op: 'ban', address: outsider.publicKey }], options).newEpoch,
      false,
    )
    assert.throws(
      () => proposeUpdate(s1, owner, [{ op: 'remove', address: owner.publicKey }], options),
      groupError('STATE_INVALID'),
    )
    assert.throws(
      () => proposeUpdate(s1, owner, [put(owner, 'member')], options),
      groupError('STATE_INVALID'),
    )
    assert.throws(
      () =>
        proposeUpdate(
          s1,
          owner,
          [put(outsider, 'member'), { op: 'remove', address: outsider.publicKey }],
          options,
        ),
      groupError('STATE_INVALID'),
    )
    assert.throws(
      () => proposeUpdate(s1, owner, [put(outsider, 'member')], { ...options, maxMembers: 3 }),
      groupError('STATE_INVALID'),
    )
  })

  it('refuses a forged signature, a rollback, a fork and a version gap', () => {
    const { s1, owner, admin, member, outsider } = setup()
    const good = raw(s1, owner, [{ op: 'name', name: 'two' }])
    const forged = good.slice()
    forged[forged.length - 1]! ^= 1
    assert.throws(() => apply(s1, forged), groupError('STATE_SIGNATURE'))
    // A member claiming to be the owner: the signature is checked under the signer named.
    const impostor = raw(s1, member, [{ op: 'name', name: 'mine' }])
    const claimed = impostor.slice()
    claimed.set(owner.publicKey, 1 + 32 + 4 + 4 + 32)
    assert.throws(() => apply(s1, claimed), groupError('STATE_SIGNATURE'))
    const s2 = apply(s1, good).state
    assert.throws(() => apply(s2, raw(s1, admin, [put(outsider, 'member')])), groupError('STATE_ROLLBACK'))
    assert.throws(
      () => apply(s2, raw(s1, admin, [put(outsider, 'member')], { version: 1 })),
      groupError('STATE_ROLLBACK'),
    )
    const fork = raw(s2, owner, [{ op: 'name', name: 'three' }], { prevHash: s1.hash })
    assert.throws(() => apply(s2, fork), groupError('STATE_FORK'))
    const s3 = raw(s2, owner, [{ op: 'name', name: 'three' }])
    const s4 = raw(apply(s2, s3).state, owner, [{ op: 'name', name: 'four' }])
    assert.throws(
      () => apply(s2, s4),
      (e) => groupError('STATE_GAP')(e) && (e as { heldVersion?: number }).heldVersion === 2,
    )
    // With the chain, the jump is fine.
    const caught = applyUpdates(s2, [s3, s4], options)
    assert.equal(caught.at(-1)?.state.version, 4)
    assert.equal(caught.at(-1)?.state.config.name, 'four')
    // An update of another group.
    const other = setup()
    assert.throws(
      () => apply(s1, raw(other.s1, other.owner, [{ op: 'name', name: 'x' }])),
      groupError('WRONG_GROUP'),
    )
  })

  it('a 1,000-member group is built in updates that each fit a messenger body', () => {
    const { s1, owner } = setup()
    let state = s1
    let largest = 0
    for (let batch = 0; batch < 10; batch++) {
      const size = batch < 9 ? 100 : 97
      const ops = Array.from({ length: size }, (_, i) =>
        put(generateIdentity(nativeBackend), 'member', `member-${batch}-${i}`),
      )
      const change = proposeUpdate(state, owner, ops, options)
      largest = Math.max(largest, change.update.length)
      state = change.state
    }
    assert.equal(state.members.size, 1000)
    assert.ok(largest < 64 * 1024, `largest update ${largest} bytes`)
    assert.throws(
      () => proposeUpdate(state, owner, [put(generateIdentity(nativeBackend), 'member')], options),
      groupError('STATE_INVALID'),
    )
  })
})

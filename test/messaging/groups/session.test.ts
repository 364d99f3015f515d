import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { nativeBackend } from '../../../bridge/crypto/native.js'
import { groupSeedsTable, loadGroupSeed, saveGroupSeed } from '../../../bridge/messaging/groups/group-key.js'
import { GroupSession } from '../../../bridge/messaging/groups/session.js'
import { decodeGroupControl } from '../../../bridge/wire/group-control.js'
import { decodeGroupMessage } from '../../../bridge/wire/group-message.js'
import { encodeStanzaPayload } from '../../../bridge/wire/stanza-payload.js'
import { config, groupError, hexOf, makeGroup } from './helpers.js'

const chat = (text: string) => ({
  kind: 'message' as const,
  payload: encodeStanzaPayload({
    kind: 'message',
    type: 'normal',
    id: new Uint8Array(16).fill(7),
    body: text,
  }),
})

describe('group sessions (real LevelDB per member)', () => {
  it('every member gets the chain and the epoch key, and opens what another seals', async () => {
    const { members } = await makeGroup(4)
    for (const m of members) {
      assert.equal(m.session.state?.version, 1)
      assert.equal(m.session.state?.members.size, 4)
      assert.deepEqual(m.session.epochs(), [1])
    }
    const [alice, bob, carol, dave] = members
    const sealed = await bob!.session.seal(chat('hello room'))
    assert.equal(sealed.mode, 'normal')
    assert.equal(sealed.recipients.length, 3)
    for (const m of [alice!, carol!, dave!]) {
      const opened = await m.session.open(sealed.message)
      assert.deepEqual(opened.sender, bob!.identity.publicKey)
      assert.deepEqual(opened.id, sealed.id)
      assert.equal(opened.timestamp, sealed.timestamp)
      assert.deepEqual(opened.body, chat('hello room'))
    }
    // The sender's own copy coming back (fan-out) is a duplicate, as is a second delivery.
    await assert.rejects(bob!.session.open(sealed.message), groupError('DUPLICATE'))
    await assert.rejects(alice!.session.open(sealed.message), groupError('DUPLICATE'))
  })

  it('dedupe survives a restart, and an altered or forged message is refused', async () => {
    const { group, members } = await makeGroup(3)
    const [alice, bob] = members
    const sealed = await bob!.session.seal({ kind: 'subject', subject: 'plans' })
    await alice!.session.open(sealed.message)
    const again = await group.reopen(alice!)
    assert.equal(again.session.state?.version, 1)
    assert.deepEqual(await GroupSession.groupsOf(again.store, alice!.identity.publicKey), [
      group.key.publicKey,
    ])
    await assert.rejects(again.session.open(sealed.message), groupError('DUPLICATE'))
    const next = await bob!.session.seal(chat('second'))
    // Message id, timestamp, nonce, ciphertext, signature.
    for (const i of [75, 93, 100, 130, next.message.length - 70, next.message.length - 1]) {
      const altered = next.message.slice()
      altered[i]! ^= 1
      await assert.rejects(again.session.open(altered), groupError('MESSAGE_AUTH'), `byte ${i}`)
    }
    // A member that re-signs someone else's message under its own name: its signature fails for the named sender.
    const m = decodeGroupMessage(next.message)
    assert.equal(m.mode, 'normal')
    const forged = next.message.slice()
    forged.set(alice!.identity.publicKey, 38)
    await assert.rejects(again.session.open(forged), groupError('MESSAGE_AUTH'))
    assert.equal((await again.session.open(next.message)).body.kind, 'message')
  })

  it('a kicked member cannot open the messages of the epochs after its removal', async () => {
    const { group, members } = await makeGroup(4)
    const [owner, bob, carol, mallory] = members
    const before = await bob!.session.seal(chat('before the kick'))
    const kick = await owner!.session.change([{ op: 'remove', address: mallory!.identity.publicKey }])
    assert.equal(kick.change.newEpoch, true)
    assert.deepEqual(kick.change.removed, [mallory!.identity.publicKey])
    // Key packages go to the remaining members only.
    const keyBodies = kick.sends.filter((s) => decodeGroupControl(s.body).type === 'key')
    assert.equal(keyBodies.length, 1)
    assert.deepEqual(
      new Set(keyBodies[0]!.to.map(hexOf)),
      new Set([bob, carol].map((m) => hexOf(m!.identity.publicKey))),
    )
    assert.deepEqual(await group.deliver(owner!, kick.sends), [])
    assert.equal(mallory!.session.state?.version, 2)
    assert.deepEqual(mallory!.session.epochs(), [], 'a removed member drops its keys')
    assert.deepEqual(bob!.session.epochs(), [1, 2])
    // The owner's new state and the key it drew were stored together.
    assert.deepEqual((await group.reopen(owner!)).session.epochs(), [1, 2])

    const after = await bob!.session.seal(chat('after the kick'))
    assert.equal(decodeGroupMessage(after.message).epoch, 2)
    assert.equal((await carol!.session.open(after.message)).body.kind, 'message')
    assert.equal(
      (await carol!.session.open(before.message)).epoch,
      1,
      'late messages of the kept epoch still open',
    )
    // Mallory holds the real sealed bytes and no key of epoch 2 (nor any other now).
    await assert.rejects(mallory!.session.open(after.message), groupError('NOT_MEMBER'))
    // And Mallory cannot send any more: not a member of the state the others hold.
    await assert.rejects(mallory!.session.seal(chat('still here?')), groupError('NOT_MEMBER'))
  })

  it('a member that kept the old state cannot read the next epoch either', async () => {
    const { group, members } = await makeGroup(3)
    const [owner, bob, eve] = members
    const kick = await owner!.session.change([{ op: 'ban', address: eve!.identity.publicKey }])
    // Eve's bridge refuses to apply the update: it keeps version 1 and its epoch-1 key.
    group.members.delete(hexOf(eve!.identity.publicKey))
    await group.deliver(owner!, kick.sends)
    const after = await bob!.session.seal(chat('eve must not read this'))
    assert.equal(eve!.session.state?.version, 1)
    await assert.rejects(eve!.session.open(after.message), groupError('FUTURE_EPOCH'))
    // A banned sender is refused by those who hold the new state.
    const fromEve = await eve!.session.seal(chat('hi'))
    await assert.rejects(bob!.session.open(fromEve.message), groupError('BANNED'))
  })

  it('adding a member sends it the chain and the current key; it reads the epoch from then on', async () => {
    const { group, members } = await makeGroup(3)
    const [owner, bob] = members
    const newcomer = await group.join()
    const add = await owner!.session.change([
      { op: 'put', address: newcomer.identity.publicKey, affiliation: 'member', nick: 'new' },
    ])
    assert.equal(add.change.newEpoch, false)
    assert.deepEqual(await group.deliver(owner!, add.sends), [])
    assert.equal(newcomer.session.state?.version, 2)
    assert.deepEqual(newcomer.session.epochs(), [1])
    const hello = await bob!.session.seal({ kind: 'join', nick: 'bob' })
    assert.deepEqual((await newcomer.session.open(hello.message)).body, { kind: 'join', nick: 'bob' })
  })

  it('a member behind asks for the updates it misses (sync) and catches up', async () => {
    const { members } = await makeGroup(3)
    const [owner, bob, carol] = members
    const a = await owner!.session.change([{ op: 'name', name: 'renamed' }])
    const b = await owner!.session.change([
      { op: 'put', address: bob!.identity.publicKey, affiliation: 'admin', nick: 'bob' },
    ])
    // Carol gets only the second update: a gap.
    const second = b.sends.find((s) => decodeGroupControl(s.body).type === 'updates')!
    await assert.rejects(
      carol!.session.receive(owner!.identity.publicKey, decodeGroupControl(second.body)),
      groupError('STATE_GAP'),
    )
    const reply = await owner!.session.receive(
      carol!.identity.publicKey,
      decodeGroupControl(carol!.session.syncRequest()),
    )
    assert.equal(reply.type, 'sync')
    await assert.rejects(
      owner!.session.receive(carol!.identity.publicKey, {
        type: 'sync',
        group: new Uint8Array(32),
        version: 0,
      }),
      groupError('WRONG_GROUP'),
    )
    for (const body of reply.type === 'sync' ? reply.replies : [])
      await carol!.session.receive(owner!.identity.publicKey, decodeGroupControl(body))
    assert.equal(carol!.session.state?.version, 3)
    assert.equal(carol!.session.state?.config.name, 'renamed')
    // The same catch-up again changes nothing; an old version that is not ours is a rollback.
    const chain = (await owner!.session.syncReplies(carol!.identity.publicKey, 0)).flatMap((body) => {
      const c = decodeGroupControl(body)
      return c.type === 'updates' ? c.updates : []
    })
    assert.equal(chain.length, 3)
    assert.deepEqual(await carol!.session.applyState(chain), [])
    const forged = a.change.update.slice()
    forged[forged.length - 1]! ^= 1
    await assert.rejects(carol!.session.applyState([forged]), groupError('STATE_ROLLBACK'))
    assert.equal(carol!.session.state?.members.get(hexOf(bob!.identity.publicKey))?.affiliation, 'admin')
    assert.ok(a.sends.length > 0)
  })

  it('high mode: one pairwise copy per member, opened only from its own sender', async () => {
    const { members } = await makeGroup(3, { mode: 'high' })
    const [alice, bob, carol] = members
    assert.equal(alice!.session.state?.config.mode, 'high')
    const sealed = await bob!.session.seal(chat('for each of you'))
    assert.equal(sealed.mode, 'high')
    const control = decodeGroupControl(sealed.pairwiseBody)
    const opened = await alice!.session.receive(bob!.identity.publicKey, control)
    assert.equal(opened.type === 'message' && opened.message.body.kind, 'message')
    // The same copy relayed by carol (or with no envelope sender) is refused.
    await assert.rejects(
      carol!.session.open(sealed.message, { via: alice!.identity.publicKey }),
      groupError('WRONG_MODE'),
    )
    await assert.rejects(carol!.session.open(sealed.message), groupError('WRONG_MODE'))
  })

  it('old epoch keys are deleted after the kept window and the retention time', async () => {
    const { group, members } = await makeGroup(3, { overrides: { keptEpochs: 1 } })
    const [owner, bob] = members
    const old = await bob!.session.seal(chat('epoch 1'))
    for (let i = 0; i < 2; i++) {
      const rekey = await owner!.session.change([], { newEpoch: true })
      await group.deliver(owner!, rekey.sends)
    }
    assert.deepEqual(bob!.session.epochs(), [2, 3])
    const carol = members[2]!
    await assert.rejects(carol.session.open(old.message), groupError('STALE_EPOCH'))
    group.advance(config.epochKeyRetainMs)
    await carol.session.expire()
    assert.deepEqual(carol.session.epochs(), [3])
    const reopened = await group.reopen(carol)
    assert.deepEqual(reopened.session.epochs(), [3], 'the deletion is on disk')
  })

  it('refuses messages outside the time window and from non-members', async () => {
    const { group, members } = await makeGroup(2)
    const [alice, bob] = members
    const outsider = await group.join()
    const sealed = await bob!.session.seal(chat('x'))
    group.advance(-config.maxFutureMs - 1)
    await assert.rejects(alice!.session.open(sealed.message), groupError('MESSAGE_TIME'))
    group.advance(config.maxFutureMs + 1 + config.dedupeWindowMs + 1)
    await assert.rejects(alice!.session.open(sealed.message), groupError('MESSAGE_TIME'))
    await assert.rejects(outsider.session.seal(chat('x')), groupError('NOT_MEMBER'))
  })
  it('key packages: held for a state not yet received, refused from members, conflicts and foreign states', async () => {
    const { group, members } = await makeGroup(4)
    const [owner, bob, carol, dave] = members
    const kick = await owner!.session.change([{ op: 'remove', address: dave!.identity.publicKey }])
    const updates = kick.sends.filter((s) => decodeGroupControl(s.body).type === 'updates')
    const key = kick.sends.find((s) => decodeGroupControl(s.body).type === 'key')!
    const control = decodeGroupControl(key.body)
    assert.equal(control.type, 'key')
    const pkg = control.type === 'key' ? control.keyPackage : undefined!
    // The key package overtakes the update: it waits, and is taken when the state arrives.
    assert.equal(await bob!.session.applyKeyPackage(owner!.identity.publicKey, pkg), 'pending')
    assert.deepEqual(await group.deliver(owner!, updates), [])
    assert.deepEqual(bob!.session.epochs(), [1, 2])
    assert.equal(await bob!.session.applyKeyPackage(owner!.identity.publicKey, pkg), 'duplicate')
    await assert.rejects(
      bob!.session.applyKeyPackage(owner!.identity.publicKey, {
        ...pkg,
        epochKey: new Uint8Array(32).fill(9),
      }),
      groupError('KEY_CONFLICT'),
    )
    await assert.rejects(
      carol!.session.applyKeyPackage(bob!.identity.publicKey, pkg),
      groupError('NOT_MEMBER'),
    )
    await assert.rejects(
      carol!.session.applyKeyPackage(owner!.identity.publicKey, { ...pkg, stateHash: new Uint8Array(32) }),
      groupError('STATE_FORK'),
    )
    assert.equal(await carol!.session.applyKeyPackage(owner!.identity.publicKey, pkg), 'stored')
  })

  it('an owner that leaves (another owner stays) sends the new key without keeping it', async () => {
    const { group, members } = await makeGroup(3)
    const [owner, bob, carol] = members
    const promote = await owner!.session.change([
      { op: 'put', address: bob!.identity.publicKey, affiliation: 'owner', nick: 'bob' },
    ])
    await group.deliver(owner!, promote.sends)
    const leave = await owner!.session.change([{ op: 'remove', address: owner!.identity.publicKey }])
    assert.deepEqual(await group.deliver(owner!, leave.sends), [])
    assert.deepEqual(owner!.session.epochs(), [])
    assert.deepEqual(carol!.session.epochs(), [1, 2])
    const line = await bob!.session.seal(chat('after the owner left'))
    assert.equal((await carol!.session.open(line.message)).epoch, 2)
    await assert.rejects(owner!.session.open(line.message), groupError('NOT_MEMBER'))
  })
  it('a member whose key package was lost gets the key back with a sync', async () => {
    const { group, members } = await makeGroup(3)
    const [owner, bob, carol] = members
    const rekey = await owner!.session.change([], { newEpoch: true })
    const toCarol = rekey.sends.map((s) => ({
      to: s.to.filter(
        (a) => hexOf(a) !== hexOf(carol!.identity.publicKey) || decodeGroupControl(s.body).type !== 'key',
      ),
      body: s.body,
    }))
    assert.deepEqual(await group.deliver(owner!, toCarol), [])
    assert.equal(carol!.session.state?.epoch, 2)
    const line = await bob!.session.seal(chat('epoch 2'))
    await assert.rejects(carol!.session.open(line.message), groupError('FUTURE_EPOCH'))
    const answer = await owner!.session.receive(
      carol!.identity.publicKey,
      decodeGroupControl(carol!.session.syncRequest()),
    )
    assert.equal(answer.type, 'sync')
    for (const body of answer.type === 'sync' ? answer.replies : [])
      await carol!.session.receive(owner!.identity.publicKey, decodeGroupControl(body))
    assert.equal((await carol!.session.open(line.message)).epoch, 2)
  })
  it('group mailbox items: one fixed-size item per message, opened by members holding the epoch', async () => {
    const { members } = await makeGroup(3)
    const [owner, bob, carol] = members
    const sealed = await bob!.session.seal(chat('for the offline ones'))
    const item = bob!.session.mailboxItem(sealed.message)
    assert.equal(item.length, 959)
    assert.ok(!Buffer.from(item).includes(Buffer.from(bob!.identity.publicKey)), 'the sender is not in clear')
    const opened = await carol!.session.openMailboxItem(1, item)
    assert.deepEqual(opened.sender, bob!.identity.publicKey)
    await assert.rejects(owner!.session.openMailboxItem(1, item.slice(0, 958)), groupError('GROUP_MALFORMED'))
    const tampered = item.slice()
    tampered[500]! ^= 1
    await assert.rejects(owner!.session.openMailboxItem(1, tampered), groupError('MESSAGE_AUTH'))
    await assert.rejects(owner!.session.openMailboxItem(2, item), groupError('STALE_EPOCH'))
    assert.equal((await owner!.session.openMailboxItem(1, item)).body.kind, 'message')
    assert.deepEqual(
      bob!.session.mailboxIdentity()?.publicKey,
      carol!.session.mailboxIdentity()?.publicKey,
      'every member computes the same group mailbox',
    )
    assert.throws(() => bob!.session.mailboxItem(new Uint8Array(918)), groupError('GROUP_MALFORMED'))
  })
  it('high mode draws no shared key; switching to normal starts an epoch with one', async () => {
    const { group, members } = await makeGroup(3, { mode: 'high' })
    const [owner, bob, carol] = members
    assert.deepEqual(bob!.session.epochs(), [])
    const normal = await owner!.session.change([{ op: 'mode', mode: 'normal' }])
    assert.equal(normal.change.newEpoch, true)
    assert.deepEqual(await group.deliver(owner!, normal.sends), [])
    assert.deepEqual(carol!.session.epochs(), [2])
    const line = await bob!.session.seal(chat('now shared'))
    assert.equal(line.mode, 'normal')
    assert.equal((await carol!.session.open(line.message)).epoch, 2)
  })

  it("an owner's group seed is kept sealed under its identity and survives a restart", async () => {
    const { group, members } = await makeGroup(2)
    const [owner, bob] = members
    await saveGroupSeed(owner!.store, nativeBackend, owner!.identity, group.key)
    const stored: Uint8Array[] = []
    for await (const [, record] of groupSeedsTable(owner!.store).entries()) stored.push(record.sealed)
    assert.equal(stored.length, 1)
    assert.ok(
      !Buffer.from(stored[0]!).includes(Buffer.from(group.key.seed)),
      'the seed is not stored in clear',
    )
    const again = await group.reopen(owner!)
    const key = await loadGroupSeed(again.store, nativeBackend, owner!.identity, group.key.publicKey)
    assert.deepEqual(key?.seed, group.key.seed)
    assert.equal(
      await loadGroupSeed(again.store, nativeBackend, bob!.identity, group.key.publicKey),
      undefined,
    )
    // With the group key, the owner signs as the group itself.
    const renamed = await again.session.change([{ op: 'name', name: 'by the group key' }], {
      asGroupKey: key,
    })
    assert.deepEqual(renamed.change.signer, group.key.publicKey)
  })
})

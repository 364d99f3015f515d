import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Outgoing } from '../../../bridge/messaging/groups/session.js'
import { encodeStanzaPayload } from '../../../bridge/wire/stanza-payload.js'
import { config, groupError, makeGroup } from './helpers.js'

const DAY = 24 * 60 * 60 * 1000
const chat = (text: string) => ({
  kind: 'message' as const,
  payload: encodeStanzaPayload({
    kind: 'message',
    type: 'normal',
    id: new Uint8Array(16).fill(7),
    body: text,
  }),
})

describe('group session: old epochs keep their group mailbox keys until the items expire (fake clock)', () => {
  it('past epochKeyRetainMs an old epoch opens only mailbox items, until mailboxKeyRetainMs', async () => {
    assert.equal(config.mailboxKeyRetainMs, 14 * DAY)
    const { group, members } = await makeGroup(3)
    const [owner, bob, carol] = members
    // Bob writes in epoch 1; the message waits in the group mailbox for carol, and reaches her live late too.
    const sealed = await bob!.session.seal(chat('while you were away'))
    const item = bob!.session.mailboxItem(sealed.message)
    const rekey = await owner!.session.change([], { newEpoch: true })
    await group.deliver(owner!, rekey.sends)
    group.advance(config.epochKeyRetainMs + DAY)
    await carol!.session.expire()
    assert.deepEqual(carol!.session.epochs(), [2], 'epoch 1 is no longer live')
    assert.deepEqual(carol!.session.mailboxEpochs(), [1, 2], 'but its mailbox key is kept')
    await assert.rejects(carol!.session.open(sealed.message), groupError('STALE_EPOCH'))
    assert.ok(carol!.session.mailboxIdentity(1), 'she can still fetch the epoch 1 mailbox')
    const opened = await carol!.session.openMailboxItem(1, item)
    assert.equal(opened.epoch, 1)

    // Once the holders have dropped the items, the key goes too (forward secrecy), on disk as well.
    group.advance(config.mailboxKeyRetainMs - config.epochKeyRetainMs - DAY)
    await owner!.session.expire()
    assert.deepEqual(owner!.session.mailboxEpochs(), [2])
    await assert.rejects(owner!.session.openMailboxItem(1, item), groupError('STALE_EPOCH'))
    const reopened = await group.reopen(owner!)
    assert.deepEqual(reopened.session.mailboxEpochs(), [2])
  })

  it('a member back after more rotations than keptEpochs reads the oldest epoch from the mailbox', async () => {
    const { group, members } = await makeGroup(3, { overrides: { keptEpochs: 1 } })
    const [owner, bob, carol] = members
    const sealed = await bob!.session.seal(chat('before the rotations'))
    const item = bob!.session.mailboxItem(sealed.message)
    // Carol is away: what is sent to her waits (in her own pairwise mailbox) while three epochs go by.
    const waiting: Outgoing[] = []
    for (let i = 0; i < 3; i++) {
      const rekey = await owner!.session.change([], { newEpoch: true })
      for (const send of rekey.sends) {
        const others = send.to.filter((a) => Buffer.compare(a, carol!.identity.publicKey) !== 0)
        await group.deliver(owner!, [{ ...send, to: others }])
        if (others.length < send.to.length) waiting.push({ to: [carol!.identity.publicKey], body: send.body })
      }
    }
    group.advance(5 * DAY)
    // Back: the updates and key packages come in at once.
    assert.deepEqual(await group.deliver(owner!, waiting), [])
    await carol!.session.expire()
    assert.deepEqual(carol!.session.epochs(), [3, 4])
    assert.deepEqual(carol!.session.mailboxEpochs(), [1, 2, 3, 4])
    assert.equal((await carol!.session.openMailboxItem(1, item)).epoch, 1)
    await assert.rejects(carol!.session.open(sealed.message), groupError('DUPLICATE'))
  })
})

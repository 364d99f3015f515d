import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { nativeBackend } from '../../../bridge/crypto/native.js'
import { GroupError } from '../../../bridge/messaging/groups/errors.js'
import { generateGroupKey } from '../../../bridge/messaging/groups/group-key.js'
import {
  GroupSession,
  type OpenedGroupMessage,
  type Outgoing,
} from '../../../bridge/messaging/groups/session.js'
import type { InboundMessage } from '../../../bridge/messaging/messenger.js'
import { decodeGroupControl, isGroupControl } from '../../../bridge/wire/group-control.js'
import { Network, type Peer, startPeer, testConfig, until } from '../messenger-harness.js'
import { config, hexOf } from './helpers.js'

/**
 * The group protocol over the real Messenger and EnvelopeSealer: every group
 * body is a reliable pairwise message, sealed in a real envelope, and the
 * session learns the sender from the envelope alone.
 */
interface Bridge {
  peer: Peer
  session: GroupSession
  opened: OpenedGroupMessage[]
  refused: string[]
}

async function bridges(count: number, mode: 'normal' | 'high' = 'normal') {
  const network = new Network()
  const key = generateGroupKey(nativeBackend)
  const messaging = testConfig()
  const all = new Map<string, Bridge>()
  const send = async (from: Bridge, sends: Outgoing[]) => {
    for (const { to, body } of sends)
      for (const address of to) await from.peer.messenger.send(from.peer.identity.publicKey, address, body)
  }
  const deliver = async (message: InboundMessage, peer: Peer) => {
    const bridge = all.get(hexOf(peer.identity.publicKey))
    if (!bridge || !isGroupControl(message.body)) return
    try {
      const result = await bridge.session.receive(message.from, decodeGroupControl(message.body))
      if (result.type === 'message') bridge.opened.push(result.message)
      if (result.type === 'sync')
        for (const body of result.replies)
          await peer.messenger.send(peer.identity.publicKey, message.from, body)
    } catch (err) {
      if (!(err instanceof GroupError)) throw err
      bridge.refused.push(err.code)
      if (err.code === 'STATE_GAP' || err.code === 'FUTURE_EPOCH')
        await peer.messenger.send(peer.identity.publicKey, message.from, bridge.session.syncRequest())
    }
  }
  const list: Bridge[] = []
  for (let i = 0; i < count; i++) {
    const peer = await startPeer(network, { sealer: 'real', config: messaging, deliver })
    const session = await GroupSession.load({
      store: peer.store,
      local: peer.identity,
      group: key.publicKey,
      config,
      maxMessageBytes: messaging.maxMessageBytes,
    })
    const bridge = { peer, session, opened: [], refused: [] }
    all.set(hexOf(peer.identity.publicKey), bridge)
    list.push(bridge)
  }
  const [owner, ...rest] = list
  const made = await owner!.session.create(key, {
    name: 'over the messenger',
    nick: 'owner',
    mode,
    members: rest.map((b, i) => ({ address: b.peer.identity.publicKey, nick: `m${i}` })),
  })
  await send(owner!, made.sends)
  await until(
    () =>
      rest.every(
        (b) =>
          (b.session.state?.version === 1 && b.session.epochs().length > 0) ||
          (mode === 'high' && b.session.state?.version === 1),
      ),
    'every member has the group',
  )
  return { list, send }
}

/** The sender delivers a sealed message to each member itself (a small group: no fan-out). */
async function post(
  from: Bridge,
  to: Bridge[],
  text: string,
  send: (b: Bridge, s: Outgoing[]) => Promise<void>,
) {
  const sealed = await from.session.seal({ kind: 'subject', subject: text })
  await send(from, [{ to: to.map((b) => b.peer.identity.publicKey), body: sealed.pairwiseBody }])
  return sealed
}

describe('groups over the real messenger and envelopes', () => {
  it('normal mode: messages arrive once, and a kicked member reads nothing after the kick', async () => {
    const { list, send } = await bridges(3)
    const [owner, bob, mallory] = list as [Bridge, Bridge, Bridge]
    await post(bob, [owner, mallory], 'hello', send)
    await until(() => owner.opened.length === 1 && mallory.opened.length === 1, 'the first message')
    const kick = await owner.session.change([{ op: 'remove', address: mallory.peer.identity.publicKey }])
    await send(owner, kick.sends)
    await until(() => bob.session.epochs().includes(2) && mallory.session.state?.version === 2, 'the kick')
    // Bob's bridge (wrongly) still sends to mallory: her bridge refuses, it holds no key.
    await post(bob, [owner, mallory], 'after the kick', send)
    await until(
      () => owner.opened.length === 2 && mallory.refused.includes('NOT_MEMBER'),
      'the second message',
    )
    assert.deepEqual(
      mallory.opened.map((m) => m.body),
      [{ kind: 'subject', subject: 'hello' }],
    )
    assert.deepEqual(mallory.session.epochs(), [])
    assert.equal(owner.opened[1]!.epoch, 2)
  })

  it('high mode: each copy opens only as coming from its envelope sender', async () => {
    const { list, send } = await bridges(3, 'high')
    const [owner, bob, carol] = list as [Bridge, Bridge, Bridge]
    const sealed = await post(bob, [owner], 'sealed for each', send)
    await until(() => owner.opened.length === 1, "the owner's copy")
    assert.equal(owner.opened[0]!.mode, 'high')
    // The owner passes its copy on to carol: the envelope says owner, the header bob.
    await send(owner, [{ to: [carol.peer.identity.publicKey], body: sealed.pairwiseBody }])
    await until(() => carol.refused.length > 0, 'the relayed copy')
    assert.deepEqual(carol.refused, ['WRONG_MODE'])
    await send(bob, [{ to: [carol.peer.identity.publicKey], body: sealed.pairwiseBody }])
    await until(() => carol.opened.length === 1, "bob's own copy")
  })
})

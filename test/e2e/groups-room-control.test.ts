import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { createElement as xml } from 'ltx'
import { parseAddress } from '../../bridge/crypto/address.js'
import type { Testnet } from '../../bridge/dht/testnet.js'
import { tempDir } from '../store/helpers.js'
import {
  itemsOf,
  jid,
  join_,
  MUC,
  MUC_USER,
  openRoom,
  type Side,
  sessionCopy,
  startSide,
  until,
  WAIT,
} from './groups-helpers.js'
import { startRelayTestnet } from './relay-testnet.js'

const roleOf = (viewer: Side, occupant: Side) => itemsOf(viewer, occupant).at(-1)?.role

describe('room control across three bridges: voice, moderator, destroy (@xmpp/client users)', () => {
  let testnet: Testnet
  let alice: Side
  let bob: Side
  let carol: Side
  /** Joins later (a fourth bridge): told the roles given before it came. */
  let dave: Side | undefined
  let root: string
  let bootstrap: string

  const admin = (by: Side, item: Record<string, string>) =>
    by.client.xmpp.iqCaller.request(
      xml('iq', { type: 'set', to: by.room }, xml('query', { xmlns: `${MUC}#admin` }, xml('item', item))),
    )

  before(async () => {
    const net = await startRelayTestnet(10)
    testnet = net.testnet
    root = await tempDir('paranoim-room-control-')
    bootstrap = net.bootstrap
    const sides = await Promise.all(
      ['alice', 'bob', 'carol'].map((nickname) => startSide(root, nickname, net.bootstrap)),
    )
    ;[alice, bob, carol] = sides as [Side, Side, Side]
    await openRoom(alice, [bob, carol], 'control')
  })

  after(async () => {
    for (const side of [alice, bob, carol, dave]) {
      await side?.client.stop()
      await side?.bridge.stop()
      await side?.store.close()
    }
    await testnet?.stop()
  })

  it("alice revokes bob's voice: every client sees him a visitor, and his message is refused", async () => {
    await admin(alice, { nick: bob.nick, role: 'visitor' })
    for (const viewer of [alice, bob, carol])
      await until(`${viewer.nick} sees bob a visitor`, () => roleOf(viewer, bob) === 'visitor')
    await bob.client.xmpp.send(
      xml('message', { to: bob.room, type: 'groupchat', id: 'muted' }, xml('body', {}, 'can you hear me')),
    )
    const error = await bob.client.next((s) => s.is('message') && s.attrs.id === 'muted', WAIT)
    assert.equal(error.attrs.type, 'error')
    assert.ok(error.getChild('error')?.getChild('forbidden'))
    // A member may not give voice back (only moderators change roles).
    await assert.rejects(
      admin(carol, { nick: bob.nick, role: 'participant' }),
      (err: { condition?: string }) => err.condition === 'forbidden',
    )
  })

  it('dave, invited and joining after, sees bob a visitor: the roles given are told to newcomers', async () => {
    const newcomer = await startSide(root, 'dave', bootstrap)
    dave = newcomer
    await alice.client.xmpp.send(
      xml('message', { to: alice.room }, xml('x', { xmlns: MUC_USER }, xml('invite', { to: jid(newcomer) }))),
    )
    const invite = await newcomer.client.next(
      (s) => s.is('message') && !!s.getChild('x', MUC_USER)?.getChild('invite'),
      WAIT,
    )
    newcomer.room = invite.attrs.from!
    await join_(newcomer)
    await until('dave sees bob a visitor', () => roleOf(newcomer, bob) === 'visitor')
  })

  it('alice makes carol a moderator: seen everywhere; carol gives bob his voice back', async () => {
    await admin(alice, { nick: carol.nick, role: 'moderator' })
    for (const viewer of [alice, bob, carol])
      await until(`${viewer.nick} sees carol a moderator`, () => roleOf(viewer, carol) === 'moderator')
    await admin(carol, { nick: bob.nick, role: 'participant' })
    for (const viewer of [alice, bob, carol])
      await until(`${viewer.nick} sees bob a participant`, () => roleOf(viewer, bob) === 'participant')
  })

  it('alice destroys the room with a reason: bob and carol see §10.9, rejoining finds nothing, bob refuses later messages', async () => {
    const group = parseAddress(bob.room.split('@')[0]!)
    // A message carol's bridge sealed before the end, to hand bob's bridge after it.
    const early = await (await sessionCopy(carol, group)).seal({ kind: 'subject', subject: 'late' })
    await alice.client.xmpp.iqCaller.request(
      xml(
        'iq',
        { type: 'set', to: alice.room },
        xml('query', { xmlns: `${MUC}#owner` }, xml('destroy', {}, xml('reason', {}, 'Project done'))),
      ),
    )
    for (const viewer of [bob, carol])
      await until(`${viewer.nick} gets the destroy`, () =>
        itemsOf(viewer, viewer).some(
          (p) =>
            p.type === 'unavailable' &&
            p.role === 'none' &&
            p.x.getChild('item')?.attrs.affiliation === 'none' &&
            p.x.getChild('destroy')?.getChildText('reason') === 'Project done',
        ),
      )
    await join_(bob)
    const refused = await bob.client.next(
      (s) => s.is('presence') && s.attrs.type === 'error' && s.attrs.from === `${bob.room}/${bob.nick}`,
      WAIT,
    )
    assert.ok(refused.getChild('error')?.getChild('item-not-found'))
    const bobCopy = await sessionCopy(bob, group)
    assert.deepEqual(bobCopy.state!.destroyed, { reason: 'Project done', alternate: '' })
    assert.deepEqual(bobCopy.epochs(), [])
    await assert.rejects(
      bobCopy.open(early.message),
      (err: { code?: string }) => err.code === 'GROUP_DESTROYED',
    )
  })
})

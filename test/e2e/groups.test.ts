import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { createElement as xml } from 'ltx'
import { encodeAddress, parseAddress } from '../../bridge/crypto/address.js'
import type { Testnet } from '../../bridge/dht/testnet.js'
import type { GroupSession } from '../../bridge/messaging/groups/session.js'
import { tempDir } from '../store/helpers.js'
import {
  configureRoom,
  DOMAIN,
  groupchat,
  jid,
  join_,
  MUC,
  MUC_USER,
  presencesOf,
  SERVICE,
  type Side,
  sessionCopy,
  startSide,
  subjects,
  until,
  WAIT,
} from './groups-helpers.js'
import { startRelayTestnet } from './relay-testnet.js'

describe('group chat across three bridges: one room, three @xmpp/client users', () => {
  let testnet: Testnet
  let alice: Side
  let bob: Side
  let carol: Side
  let group: Uint8Array

  before(async () => {
    const net = await startRelayTestnet(10)
    testnet = net.testnet
    const root = await tempDir('paranoim-groups-')
    const sides = await Promise.all(
      ['alice', 'bob', 'carol'].map((nickname) => startSide(root, nickname, net.bootstrap)),
    )
    ;[alice, bob, carol] = sides as [Side, Side, Side]
  })

  after(async () => {
    for (const side of [alice, bob, carol]) {
      await side?.client.stop()
      await side?.bridge.stop()
      await side?.store.close()
    }
    await testnet?.stop()
  })

  it('alice creates and configures a room, invites bob (mediated) and carol (XEP-0249 direct); all three see each other join', async () => {
    alice.room = `team@${SERVICE}`
    await join_(alice)
    await until('alice in the new room', () => presencesOf(alice, alice).some((p) => p.codes.includes('201')))
    await configureRoom(alice.client, alice.room, {
      'muc#roomconfig_roomname': 'Team',
      'muc#roomconfig_roomdesc': 'three bridges',
      'muc#roomconfig_membersonly': '1',
    })
    // Bob by a mediated invitation (XEP-0045 §7.8.2), carol by a direct one (XEP-0249, as Conversations
    // sends): either signs the invitee in, and its bridge shows the room's mediated invitation.
    await alice.client.xmpp.send(
      xml('message', { to: alice.room }, xml('x', { xmlns: MUC_USER }, xml('invite', { to: jid(bob) }))),
    )
    await alice.client.xmpp.send(
      xml('message', { to: jid(carol) }, xml('x', { xmlns: 'jabber:x:conference', jid: alice.room })),
    )
    for (const invitee of [bob, carol]) {
      const invite = await invitee.client.next(
        (s) => s.is('message') && (s.attrs.from ?? '').endsWith(`@${SERVICE}`) && !!s.getChild('x', MUC_USER),
        WAIT,
      )
      assert.equal(
        invite.getChild('x', MUC_USER)!.getChild('invite')!.attrs.from,
        `${alice.address.toLowerCase()}@${DOMAIN}`,
      )
      invitee.room = invite.attrs.from!
    }
    assert.equal(bob.room, carol.room)
    group = parseAddress(bob.room.split('@')[0]!)
    await join_(bob)
    await join_(carol)
    for (const viewer of [alice, bob, carol])
      for (const occupant of [alice, bob, carol])
        await until(`${viewer.nick} sees ${occupant.nick} in`, () =>
          presencesOf(viewer, occupant).some((p) => p.type === 'available'),
        )
  })

  it('messages from each reach the other two once, in order; a subject change is seen by all', async () => {
    const sides = [alice, bob, carol]
    for (let i = 0; i < 3; i++)
      for (const side of sides)
        await side.client.xmpp.send(
          xml(
            'message',
            { to: side.room, type: 'groupchat', id: `${side.nick}-${i}` },
            xml('body', {}, `${side.nick} ${i}`),
          ),
        )
    for (const viewer of sides)
      for (const from of sides)
        await until(`${viewer.nick} has ${from.nick}'s`, () => groupchat(viewer, from).length >= 3)
    await new Promise((resolve) => setTimeout(resolve, 500))
    for (const viewer of sides)
      for (const from of sides)
        assert.deepEqual(
          groupchat(viewer, from),
          [0, 1, 2].map((i) => `${from.nick} ${i}`),
          `${viewer.nick} ← ${from.nick}`,
        )
    await alice.client.xmpp.send(
      xml('message', { to: alice.room, type: 'groupchat' }, xml('subject', {}, 'Plans')),
    )
    for (const viewer of sides)
      await until(`${viewer.nick} sees the subject`, () => subjects(viewer).includes('Plans'))
  })

  it('bob leaves and rejoins: the others see him go and come back', async () => {
    await bob.client.xmpp.send(xml('presence', { to: `${bob.room}/${bob.nick}`, type: 'unavailable' }))
    for (const viewer of [alice, carol])
      await until(
        `${viewer.nick} sees bob leave`,
        () => presencesOf(viewer, bob).at(-1)?.type === 'unavailable',
      )
    await join_(bob)
    for (const viewer of [alice, carol])
      await until(`${viewer.nick} sees bob back`, () => presencesOf(viewer, bob).at(-1)?.type === 'available')
  })

  it("a member's kick is refused; alice kicks carol: 307 everywhere, a new epoch carol cannot read", async () => {
    const kick = (by: Side) =>
      by.client.xmpp.iqCaller.request(
        xml(
          'iq',
          { type: 'set', to: by.room },
          xml('query', { xmlns: `${MUC}#admin` }, xml('item', { nick: carol.nick, role: 'none' })),
        ),
      )
    await assert.rejects(kick(bob), (err: { condition?: string }) => err.condition === 'forbidden')
    // The room lets occupants invite, but only an owner or admin can sign a new member in.
    const stranger = `${encodeAddress(new Uint8Array(32).fill(9)).toLowerCase()}@${DOMAIN}`
    await bob.client.xmpp.send(
      xml(
        'message',
        { to: bob.room, id: 'bob-invites' },
        xml('x', { xmlns: MUC_USER }, xml('invite', { to: stranger })),
      ),
    )
    const error = await bob.client.next((s) => s.is('message') && s.attrs.id === 'bob-invites', WAIT)
    assert.equal(error.attrs.type, 'error')
    assert.ok(error.getChild('error')?.getChild('forbidden'))
    await kick(alice)
    for (const viewer of [alice, bob, carol])
      await until(`${viewer.nick} sees carol kicked`, () =>
        presencesOf(viewer, carol).some((p) => p.type === 'unavailable' && p.codes.includes('307')),
      )
    await alice.client.xmpp.send(
      xml('message', { to: alice.room, type: 'groupchat' }, xml('body', {}, 'after the kick')),
    )
    await until('bob has the message after the kick', () => groupchat(bob, alice).includes('after the kick'))
    assert.ok(!groupchat(carol, alice).includes('after the kick'))
    // Carol's bridge holds the state that removed her, and no key of its new epoch.
    const [aliceCopy, bobCopy, carolCopy] = (await Promise.all(
      [alice, bob, carol].map((side) => sessionCopy(side, group)),
    )) as [GroupSession, GroupSession, GroupSession]
    await until('the new epoch key at bob', () => bobCopy.epochs().includes(2))
    assert.equal(bobCopy.state!.epoch, 2)
    assert.equal(carolCopy.state!.epoch, 2)
    assert.ok(!carolCopy.state!.members.has(Buffer.from(parseAddress(carol.address)).toString('hex')))
    assert.deepEqual(carolCopy.epochs(), [])
    // A later group message, sealed by alice's session as her bridge holds it: bob opens it, carol cannot.
    const later = await aliceCopy.seal({ kind: 'subject', subject: 'later' })
    assert.equal((await bobCopy.open(later.message)).body.kind, 'subject')
    await assert.rejects(carolCopy.open(later.message), (err: { code?: string }) => err.code === 'NOT_MEMBER')
    // And carol cannot come back into the members-only room.
    await join_(carol)
    const refused = await carol.client.next(
      (s) => s.is('presence') && s.attrs.type === 'error' && s.attrs.from === `${carol.room}/${carol.nick}`,
      WAIT,
    )
    assert.ok(refused.getChild('error')?.getChild('registration-required'))
  })
})

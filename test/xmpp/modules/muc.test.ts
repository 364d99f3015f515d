import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { Element } from 'ltx'
import { type TestClient, trustCertificate } from '../client.js'
import { startServer, type TestServer } from '../harness.js'
import { online } from './contacts.js'
import { CONF, condition, join, MUC_USER, nextFrom, shape, statusCodes } from './muc-helpers.js'
import { canonical, exchange, iq, nothing, xml } from './stanzas.js'

// XEP-0045 for local occupants: three accounts in one room.

let t: TestServer
let alice: TestClient
let bob: TestClient
let carol: TestClient
before(async () => {
  t = await startServer({ accounts: ['alice', 'bob', 'carol'] })
  trustCertificate(t.cert)
  alice = await online(t.starttlsPort, 'alice', 'pc')
  bob = await online(t.starttlsPort, 'bob', 'pc')
  carol = await online(t.starttlsPort, 'carol', 'pc')
})
after(async () => {
  for (const c of [alice, bob, carol]) await c.stop()
  await t.stop()
})

const A = 'alice@paranoim.localhost/pc'
const B = 'bob@paranoim.localhost/pc'
const C = 'carol@paranoim.localhost/pc'
const ROOM = `lounge@${CONF}`
const OID = "<occupant-id xmlns='urn:xmpp:occupant-id:0' id='OID'/>"

/** Lets stray stanzas of the previous steps arrive, then forgets them. */
async function settle() {
  await new Promise((resolve) => setTimeout(resolve, 200))
  for (const c of [alice, bob, carol]) c.stanzas.length = 0
}

const presenceFrom = (client: TestClient, from: string) =>
  nextFrom(client, from, (el) => el.name === 'presence')

test('disco: the service (conference/text) and a room that does not exist', async () => {
  assert.equal(
    await exchange(
      alice,
      xml`<iq type='get' id='d1' to='${CONF}'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`,
    ),
    canonical(`
      <iq type='result' id='d1' from='${CONF}' to='${A}'>
        <query xmlns='http://jabber.org/protocol/disco#info'>
          <identity category='conference' type='text' name='Chatrooms'/>
          <feature var='http://jabber.org/protocol/disco#info'/>
          <feature var='http://jabber.org/protocol/disco#items'/>
          <feature var='http://jabber.org/protocol/muc'/>
          <feature var='urn:xmpp:occupant-id:0'/>
        </query>
      </iq>`),
  )
  const missing = await iq(
    alice,
    xml`<iq type='get' id='d2' to='nothere@${CONF}'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`,
  )
  assert.equal(condition(missing), 'item-not-found')
})

test('create (locked until the instant form), join order, history, subject, messages, PMs, nick change, leave', async () => {
  // §10.1.2: the creator gets 201 and the empty subject; the room is locked.
  const created = await join(alice, `${ROOM}/Alice`)
  assert.deepEqual(created.map(shape), [
    canonical(`
      <presence from='${ROOM}/Alice' to='${A}'>
        <x xmlns='${MUC_USER}'><item affiliation='owner' role='moderator' jid='${A}'/><status code='201'/><status code='110'/></x>
        ${OID}
      </presence>`),
    canonical(`<message type='groupchat' from='${ROOM}' to='${A}'><subject/></message>`),
  ])
  await bob.xmpp.send(xml`<presence to='${ROOM}/Bob'><x xmlns='http://jabber.org/protocol/muc'/></presence>`)
  const locked = await presenceFrom(bob, `${ROOM}/Bob`)
  assert.equal(locked.attrs.type, 'error')
  assert.equal(condition(locked), 'item-not-found')
  // The owner accepts the default configuration: an instant room.
  assert.equal(
    await exchange(
      alice,
      xml`<iq type='set' id='c1' to='${ROOM}'><query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'/></query></iq>`,
    ),
    canonical(`<iq type='result' id='c1' from='${ROOM}' to='${A}'/>`),
  )

  // Bob: the occupants first, then himself (110), then the subject; alice sees his real JID (she moderates).
  const bobJoin = await join(bob, `${ROOM}/Bob`)
  assert.deepEqual(bobJoin.map(shape), [
    canonical(
      `<presence from='${ROOM}/Alice' to='${B}'><x xmlns='${MUC_USER}'><item affiliation='owner' role='moderator'/></x>${OID}</presence>`,
    ),
    canonical(
      `<presence from='${ROOM}/Bob' to='${B}'><x xmlns='${MUC_USER}'><item affiliation='none' role='participant' jid='${B}'/><status code='110'/></x>${OID}</presence>`,
    ),
    canonical(`<message type='groupchat' from='${ROOM}' to='${B}'><subject/></message>`),
  ])
  assert.equal(
    shape(await presenceFrom(alice, `${ROOM}/Bob`)),
    canonical(
      `<presence from='${ROOM}/Bob' to='${A}'><x xmlns='${MUC_USER}'><item affiliation='none' role='participant' jid='${B}'/></x>${OID}</presence>`,
    ),
  )
  await join(carol, `${ROOM}/Carol`)
  await presenceFrom(alice, `${ROOM}/Carol`)
  await presenceFrom(bob, `${ROOM}/Carol`)

  // Groupchat: everyone, the sender too, with the sender's id, a stanza-id and an occupant-id.
  await bob.xmpp.send(xml`<message type='groupchat' to='${ROOM}' id='g1'><body>hello room</body></message>`)
  const copies = await Promise.all(
    [alice, bob, carol].map((c) => nextFrom(c, `${ROOM}/Bob`, (el) => el.name === 'message')),
  )
  for (const [i, copy] of copies.entries()) {
    assert.equal(
      shape(copy),
      canonical(`
        <message type='groupchat' from='${ROOM}/Bob' id='g1' to='${[A, B, C][i]}'>
          <body>hello room</body><stanza-id xmlns='urn:xmpp:sid:0' id='SID' by='${ROOM}'/>${OID}
        </message>`),
    )
  }
  const bobId = copies[0]!.getChild('occupant-id')!.attrs.id
  assert.equal(copies[2]!.getChild('occupant-id')!.attrs.id, bobId)
  assert.equal(copies[0]!.getChild('stanza-id')!.attrs.id, copies[1]!.getChild('stanza-id')!.attrs.id)
  await carol.xmpp.send(xml`<message type='groupchat' to='${ROOM}' id='g2'><body>hi bob</body></message>`)
  for (const c of [alice, bob, carol]) await nextFrom(c, `${ROOM}/Carol`, (el) => el.name === 'message')

  // Subject (participants may change it by default).
  await bob.xmpp.send(xml`<message type='groupchat' to='${ROOM}'><subject>Tea time</subject></message>`)
  for (const c of [alice, bob, carol]) {
    const subject = await nextFrom(c, `${ROOM}/Bob`, (el) => el.getChild('subject') !== undefined)
    assert.equal(
      canonical(subject),
      canonical(
        `<message type='groupchat' from='${ROOM}/Bob' to='${c.jid}'><subject>Tea time</subject></message>`,
      ),
    )
  }

  // A private message (§7.5): from Bob's occupant JID, marked muc#user; the carbons module makes no copy.
  await bob.xmpp.send(xml`<message type='chat' to='${ROOM}/Carol' id='p1'><body>psst</body></message>`)
  assert.equal(
    shape(await nextFrom(carol, `${ROOM}/Bob`, (el) => el.attrs.id === 'p1')),
    canonical(`
      <message type='chat' from='${ROOM}/Bob' id='p1' to='${C}'>
        <body>psst</body><x xmlns='${MUC_USER}'/><stanza-id xmlns='urn:xmpp:sid:0' id='SID' by='carol@paranoim.localhost'/>
      </message>`),
  )
  const nobody = await iq(
    bob,
    xml`<iq type='get' id='x' to='${ROOM}/Nobody'><ping xmlns='urn:xmpp:ping'/></iq>`,
  )
  assert.equal(condition(nobody), 'item-not-found')
  // An IQ to an occupant goes to its client from the asker's occupant JID (real JID hidden), under another
  // id; the client's answer (here @xmpp/client's own service-unavailable for a vCard) comes back as from Carol.
  await bob.xmpp.send(xml`<iq type='get' id='v1' to='${ROOM}/Carol'><vCard xmlns='vcard-temp'/></iq>`)
  const relayed = await carol.next(
    (el) => el.name === 'iq' && el.attrs.type === 'get' && el.getChild('vCard') !== undefined,
  )
  assert.equal(relayed.attrs.from, `${ROOM}/Bob`)
  assert.notEqual(relayed.attrs.id, 'v1')
  const answer = await bob.next((el) => el.name === 'iq' && el.attrs.id === 'v1')
  assert.equal(answer.attrs.from, `${ROOM}/Carol`)
  assert.equal(condition(answer), 'service-unavailable')
  await bob.xmpp.send(xml`<message type='chat' to='${ROOM}/Nobody' id='p2'><body>?</body></message>`)
  assert.equal(condition(await nextFrom(bob, `${ROOM}/Nobody`)), 'item-not-found')
  // XEP-0410 self-ping: joined → result; not joined → not-acceptable.
  assert.equal(
    (await iq(bob, xml`<iq type='get' id='sp1' to='${ROOM}/Bob'><ping xmlns='urn:xmpp:ping'/></iq>`)).attrs
      .type,
    'result',
  )

  // History on a second join: maxstanzas, maxchars, seconds, since; with a delay (XEP-0203).
  await carol.xmpp.send(xml`<presence to='${ROOM}/Carol' type='unavailable'/>`)
  const gone = await presenceFrom(carol, `${ROOM}/Carol`)
  assert.equal(
    shape(gone),
    canonical(
      `<presence type='unavailable' from='${ROOM}/Carol' to='${C}'><x xmlns='${MUC_USER}'><item affiliation='none' role='none' jid='${C}'/><status code='110'/></x>${OID}</presence>`,
    ),
  )
  assert.equal((await presenceFrom(bob, `${ROOM}/Carol`)).attrs.type, 'unavailable')
  assert.equal(
    condition(
      await iq(carol, xml`<iq type='get' id='sp2' to='${ROOM}/Carol'><ping xmlns='urn:xmpp:ping'/></iq>`),
    ),
    'not-acceptable',
  )
  const history = (await join(carol, `${ROOM}/Carol`, "<history maxstanzas='1'/>")).filter(
    (el) => el.name === 'message',
  )
  assert.deepEqual(history.map(shape), [
    canonical(`
      <message type='groupchat' from='${ROOM}/Carol' id='g2' to='${C}'>
        <body>hi bob</body><stanza-id xmlns='urn:xmpp:sid:0' id='SID' by='${ROOM}'/>${OID}
        <delay xmlns='urn:xmpp:delay' from='${ROOM}' stamp='STAMP'/>
      </message>`),
    canonical(`<message type='groupchat' from='${ROOM}/Bob' to='${C}'><subject>Tea time</subject></message>`),
  ])
  for (const [request, count] of [
    ['', 2],
    ["<history maxstanzas='0'/>", 0],
    ["<history maxchars='0'/>", 0],
    ["<history seconds='3600'/>", 2],
    ["<history since='2999-01-01T00:00:00Z'/>", 0],
    ["<history since='1999-01-01T00:00:00Z' maxstanzas='5'/>", 2],
    ["<history maxstanzas='nonsense'/>", 2],
  ] as const) {
    await carol.xmpp.send(xml`<presence to='${ROOM}/Carol' type='unavailable'/>`)
    await presenceFrom(carol, `${ROOM}/Carol`)
    const got = await join(carol, `${ROOM}/Carol`, request)
    assert.equal(got.filter((el) => el.getChild('body')).length, count, request)
  }
  await settle()

  // Nick change (§7.6): unavailable with 303 and the new nick, then the new presence; a taken nick is 409.
  await carol.xmpp.send(xml`<presence to='${ROOM}/Bob'/>`)
  const conflict = await presenceFrom(carol, `${ROOM}/Bob`)
  assert.equal(conflict.attrs.type, 'error')
  assert.equal(condition(conflict), 'conflict')
  await carol.xmpp.send(xml`<presence to='${ROOM}/Caroline'/>`)
  const old = await presenceFrom(bob, `${ROOM}/Carol`)
  assert.equal(
    shape(old),
    canonical(
      `<presence type='unavailable' from='${ROOM}/Carol' to='${B}'><x xmlns='${MUC_USER}'><item affiliation='none' role='none' nick='Caroline'/><status code='303'/></x>${OID}</presence>`,
    ),
  )
  assert.equal((await presenceFrom(bob, `${ROOM}/Caroline`)).attrs.type, undefined)
  assert.deepEqual(statusCodes(await presenceFrom(carol, `${ROOM}/Carol`)), [303, 110])
  assert.deepEqual(statusCodes(await presenceFrom(carol, `${ROOM}/Caroline`)), [110])

  // A presence update is broadcast (show/status kept).
  await bob.xmpp.send(xml`<presence to='${ROOM}/Bob'><show>away</show><status>brb</status></presence>`)
  const away = await presenceFrom(alice, `${ROOM}/Bob`)
  assert.equal(away.getChildText('show'), 'away')
  assert.equal(away.getChildText('status'), 'brb')
})

test('a second resource joins the same occupant; groupchat is never carbon-copied', async () => {
  await settle()
  const phone = await online(t.starttlsPort, 'bob', 'phone')
  await iq(phone, xml`<iq type='set' id='cb'><enable xmlns='urn:xmpp:carbons:2'/></iq>`)
  const got = await join(phone, `${ROOM}/Bob`)
  // The others, then itself (110), then history and the subject; the others see no new occupant.
  const presences = got.filter((el) => el.name === 'presence')
  assert.deepEqual(
    presences.map((p) => p.attrs.from),
    [`${ROOM}/Alice`, `${ROOM}/Caroline`, `${ROOM}/Bob`],
  )
  assert.ok(await nothing(alice, (el) => el.name === 'presence' && el.attrs.from === `${ROOM}/Bob`, 200))
  await alice.xmpp.send(
    xml`<message type='groupchat' to='${ROOM}' id='g3'><body>both of you</body><origin-id xmlns='urn:xmpp:sid:0' id='o3'/><stanza-id xmlns='urn:xmpp:sid:0' id='forged' by='${ROOM}'/></message>`,
  )
  // Both resources get it; the client's origin-id stays (clients know their echo by it), a forged stanza-id does not.
  for (const c of [bob, phone]) {
    const copy = await nextFrom(c, `${ROOM}/Alice`, (el) => el.attrs.id === 'g3')
    assert.equal(copy.getChild('origin-id')?.attrs.id, 'o3')
    assert.deepEqual(
      copy.getChildren('stanza-id').map((el) => el.attrs.id === 'forged'),
      [false],
    )
  }
  await phone.xmpp.send(xml`<presence to='${ROOM}/Bob' type='unavailable'/>`)
  // The pc resource is still in: no unavailable for the room, and it still gets messages.
  assert.ok(
    await nothing(alice, (el) => el.attrs.from === `${ROOM}/Bob` && el.attrs.type === 'unavailable', 200),
  )
  await phone.stop()
  // A carbons-enabled resource that is not in the room gets no copy of groupchat (XEP-0280 §6).
  const pc2 = await online(t.starttlsPort, 'alice', 'laptop')
  await iq(pc2, xml`<iq type='set' id='cb2'><enable xmlns='urn:xmpp:carbons:2'/></iq>`)
  await bob.xmpp.send(xml`<message type='groupchat' to='${ROOM}' id='g4'><body>no carbons</body></message>`)
  await nextFrom(alice, `${ROOM}/Bob`, (el) => el.attrs.id === 'g4')
  assert.ok(await nothing(pc2, (el) => el.name === 'message', 200))
  await pc2.stop()
})

test('invitations: mediated (invite, decline) and direct (XEP-0249) pass to the invitee', async () => {
  await settle()
  const dave = await online(t.starttlsPort, 'carol', 'tablet')
  await alice.xmpp.send(xml`
    <message to='${ROOM}' id='inv1'><x xmlns='${MUC_USER}'><invite to='carol@paranoim.localhost'><reason>join us</reason></invite></x></message>`)
  const invite = await nextFrom(dave, ROOM, (el) => el.attrs.id === 'inv1')
  assert.equal(
    shape(invite),
    canonical(`
      <message from='${ROOM}' to='carol@paranoim.localhost' id='inv1'>
        <x xmlns='${MUC_USER}'><invite from='alice@paranoim.localhost'><reason>join us</reason></invite></x>
        <body>Alice invites you to ${ROOM}: join us</body>
        <stanza-id xmlns='urn:xmpp:sid:0' id='SID' by='carol@paranoim.localhost'/>
      </message>`),
  )
  await dave.xmpp.send(
    xml`<message to='${ROOM}'><x xmlns='${MUC_USER}'><decline to='alice@paranoim.localhost'><reason>busy</reason></decline></x></message>`,
  )
  assert.equal(
    canonical(
      await nextFrom(alice, ROOM, (el) => el.getChild('x', MUC_USER)?.getChild('decline') !== undefined),
    ),
    canonical(`
      <message from='${ROOM}' to='alice@paranoim.localhost'>
        <x xmlns='${MUC_USER}'><decline from='carol@paranoim.localhost'><reason>busy</reason></decline></x>
      </message>`),
  )
  await alice.xmpp.send(xml`
    <message to='carol@paranoim.localhost' id='dir1'><x xmlns='jabber:x:conference' jid='${ROOM}' reason='come'/></message>`)
  assert.equal(
    canonical(await dave.next((el) => el.attrs.id === 'dir1')),
    canonical(
      `<message to='carol@paranoim.localhost' id='dir1' from='${A}'><x xmlns='jabber:x:conference' jid='${ROOM}' reason='come'/></message>`,
    ),
  )
  await dave.stop()
})

test('configuration form; members-only: non-members removed (322), refused (407), invitees become members', async () => {
  await settle()
  const form = await iq(
    alice,
    xml`<iq type='get' id='f1' to='${ROOM}'><query xmlns='http://jabber.org/protocol/muc#owner'/></iq>`,
  )
  const fields = form
    .getChild('query')!
    .getChild('x')!
    .getChildren('field')
    .map((f) => f.attrs.var)
  assert.deepEqual(fields, [
    'FORM_TYPE',
    'muc#roomconfig_roomname',
    'muc#roomconfig_roomdesc',
    'muc#roomconfig_persistentroom',
    'muc#roomconfig_publicroom',
    'muc#roomconfig_membersonly',
    'muc#roomconfig_whois',
    'muc#roomconfig_changesubject',
    'muc#roomconfig_allowinvites',
    'muc#roomconfig_maxusers',
    'muc#maxhistoryfetch',
    'x-paranoim-mode',
  ])
  const denied = await iq(
    bob,
    xml`<iq type='get' id='f2' to='${ROOM}'><query xmlns='http://jabber.org/protocol/muc#owner'/></iq>`,
  )
  assert.equal(condition(denied), 'forbidden')
  const submit = (id: string, fieldsXml: string) =>
    iq(
      alice,
      xml`
      <iq type='set' id='${id}' to='${ROOM}'><query xmlns='http://jabber.org/protocol/muc#owner'>
        <x xmlns='jabber:x:data' type='submit'>
          <field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#roomconfig</value></field>${fieldsXml}
        </x></query></iq>`,
    )
  assert.equal(
    (
      await submit(
        'f3',
        `<field var='muc#roomconfig_roomname'><value>The Lounge</value></field>
      <field var='muc#roomconfig_roomdesc'><value>for tea</value></field>
      <field var='muc#roomconfig_changesubject'><value>0</value></field>
      <field var='x-paranoim-mode'><value>high</value></field>`,
      )
    ).attrs.type,
    'result',
  )
  // §10.2.1: a change is announced with 104.
  assert.deepEqual(statusCodes(await nextFrom(bob, ROOM, (el) => el.name === 'message')), [104])
  const info = await iq(
    bob,
    xml`<iq type='get' id='i1' to='${ROOM}'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`,
  )
  assert.equal(
    canonical(info.getChild('query')!),
    canonical(`
      <query xmlns='http://jabber.org/protocol/disco#info'>
        <identity category='conference' type='text' name='The Lounge'/>
        <feature var='http://jabber.org/protocol/muc'/>
        <feature var='http://jabber.org/protocol/disco#info'/>
        <feature var='http://jabber.org/protocol/disco#items'/>
        <feature var='urn:xmpp:occupant-id:0'/>
        <feature var='urn:xmpp:sid:0'/>
        <feature var='muc_temporary'/><feature var='muc_public'/><feature var='muc_open'/>
        <feature var='muc_semianonymous'/><feature var='muc_unmoderated'/><feature var='muc_unsecured'/>
        <x xmlns='jabber:x:data' type='result'>
          <field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/muc#roominfo</value></field>
          <field var='muc#roominfo_description'><value>for tea</value></field>
          <field var='muc#roominfo_occupants'><value>3</value></field>
          <field var='muc#roominfo_subject'><value>Tea time</value></field>
          <field var='muc#roominfo_subjectmod'><value>0</value></field>
          <field var='muc#maxhistoryfetch'><value>50</value></field>
          <field var='x-paranoim-mode'><value>high</value></field>
        </x>
      </query>`),
  )
  const items = await iq(
    bob,
    xml`<iq type='get' id='i2' to='${CONF}'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>`,
  )
  assert.equal(
    canonical(items.getChild('query')!),
    canonical(
      `<query xmlns='http://jabber.org/protocol/disco#items'><item jid='${ROOM}' name='The Lounge'/></query>`,
    ),
  )
  // Participants may no longer change the subject.
  await bob.xmpp.send(xml`<message type='groupchat' to='${ROOM}' id='s2'><subject>mine</subject></message>`)
  assert.equal(condition(await bob.next((el) => el.attrs.id === 's2')), 'forbidden')

  // Members-only: bob is made a member; carol (none) is removed with 322.
  await exchange(
    alice,
    xml`<iq type='set' id='m1' to='${ROOM}'><query xmlns='http://jabber.org/protocol/muc#admin'><item affiliation='member' jid='bob@paranoim.localhost'/></query></iq>`,
  )
  assert.equal(
    (await presenceFrom(carol, `${ROOM}/Bob`)).getChild('x', MUC_USER)!.getChild('item')!.attrs.affiliation,
    'member',
  )
  await submit('f4', `<field var='muc#roomconfig_membersonly'><value>1</value></field>`)
  assert.deepEqual(statusCodes(await presenceFrom(carol, `${ROOM}/Caroline`)), [322, 110])
  assert.deepEqual(statusCodes(await presenceFrom(bob, `${ROOM}/Caroline`)), [322])
  const refused = await (async () => {
    await carol.xmpp.send(
      xml`<presence to='${ROOM}/Carol'><x xmlns='http://jabber.org/protocol/muc'/></presence>`,
    )
    return presenceFrom(carol, `${ROOM}/Carol`)
  })()
  assert.equal(condition(refused), 'registration-required')
  assert.equal(refused.getChild('error')!.attrs.type, 'auth')
  // Alice invites carol: carol becomes a member and may enter.
  await alice.xmpp.send(
    xml`<message to='${ROOM}' id='inv2'><x xmlns='${MUC_USER}'><invite to='carol@paranoim.localhost'/></x></message>`,
  )
  await carol.next((el) => el.attrs.id === 'inv2')
  await join(carol, `${ROOM}/Carol`)
  const members = await iq(
    alice,
    xml`<iq type='get' id='l1' to='${ROOM}'><query xmlns='http://jabber.org/protocol/muc#admin'><item affiliation='member'/></query></iq>`,
  )
  assert.equal(
    canonical(members.getChild('query')!),
    canonical(`
      <query xmlns='http://jabber.org/protocol/muc#admin'>
        <item affiliation='member' jid='bob@paranoim.localhost' nick='Bob'/>
        <item affiliation='member' jid='carol@paranoim.localhost' nick='Carol'/>
      </query>`),
  )
  for (const c of [alice, bob, carol]) c.stanzas.length = 0
})

test('moderation: kick (307), ban (301), admin and owner lists, and the permission rules', async () => {
  await settle()
  const admin = (client: TestClient, id: string, items: string, ns = 'admin') =>
    iq(
      client,
      xml`<iq type='set' id='${id}' to='${ROOM}'><query xmlns='http://jabber.org/protocol/muc#${ns}'>${items}</query></iq>`,
    )
  // A participant cannot kick; nobody kicks an owner; an unknown nick is item-not-found.
  assert.equal(condition(await admin(bob, 'k0', "<item nick='Carol' role='none'/>")), 'forbidden')
  assert.equal(condition(await admin(alice, 'k1', "<item nick='Nobody' role='none'/>")), 'item-not-found')
  assert.equal(condition(await admin(alice, 'k2', "<item nick='Bob' role='wizard'/>")), 'bad-request')
  assert.equal(condition(await admin(alice, 'k3', "<item nick='Bob'/>")), 'bad-request')
  // Bob becomes admin (an owner grants it); an admin may not grant owner, nor touch the owner.
  assert.equal(
    (await admin(alice, 'a1', "<item affiliation='admin' jid='bob@paranoim.localhost'/>", 'owner')).attrs
      .type,
    'result',
  )
  const promoted = await presenceFrom(carol, `${ROOM}/Bob`)
  assert.equal(promoted.getChild('x', MUC_USER)!.getChild('item')!.attrs.role, 'moderator')
  assert.equal(
    condition(await admin(bob, 'a2', "<item affiliation='owner' jid='carol@paranoim.localhost'/>")),
    'forbidden',
  )
  assert.equal(
    condition(await admin(bob, 'a3', "<item affiliation='outcast' jid='alice@paranoim.localhost'/>")),
    'not-allowed',
  )
  assert.equal(condition(await admin(bob, 'a4', "<item nick='Alice' role='none'/>")), 'not-allowed')
  assert.equal(
    condition(await admin(carol, 'a5', "<item affiliation='member' jid='x@paranoim.localhost'/>")),
    'forbidden',
  )
  // The sole owner cannot step down (§10.6).
  assert.equal(
    condition(await admin(alice, 'a6', "<item affiliation='admin' jid='alice@paranoim.localhost'/>")),
    'conflict',
  )
  const admins = await iq(
    alice,
    xml`<iq type='get' id='l2' to='${ROOM}'><query xmlns='http://jabber.org/protocol/muc#owner'><item affiliation='admin'/></query></iq>`,
  )
  assert.equal(
    canonical(admins.getChild('query')!),
    canonical(
      `<query xmlns='http://jabber.org/protocol/muc#owner'><item affiliation='admin' jid='bob@paranoim.localhost' nick='Bob'/></query>`,
    ),
  )
  assert.equal(
    condition(
      await iq(
        carol,
        xml`<iq type='get' id='l3' to='${ROOM}'><query xmlns='http://jabber.org/protocol/muc#admin'><item affiliation='outcast'/></query></iq>`,
      ),
    ),
    'forbidden',
  )
  for (const c of [alice, bob, carol]) c.stanzas.length = 0

  // Bob (admin, moderator) kicks carol: 307 with the actor and reason, to her and to the others.
  assert.equal(
    (await admin(bob, 'k4', "<item nick='Carol' role='none'><reason>too loud</reason></item>")).attrs.type,
    'result',
  )
  assert.equal(
    shape(await presenceFrom(carol, `${ROOM}/Carol`)),
    canonical(`
      <presence type='unavailable' from='${ROOM}/Carol' to='${C}'>
        <x xmlns='${MUC_USER}'>
          <item affiliation='member' role='none' jid='${C}'><actor nick='Bob'/><reason>too loud</reason></item>
          <status code='307'/><status code='110'/>
        </x>${OID}
      </presence>`),
  )
  assert.deepEqual(statusCodes(await presenceFrom(alice, `${ROOM}/Carol`)), [307])
  // She may come back (a kick is not a ban); then alice bans her: 301, and she cannot return.
  await join(carol, `${ROOM}/Carol`)
  await settle()
  assert.equal(
    (
      await admin(
        alice,
        'b1',
        "<item affiliation='outcast' jid='carol@paranoim.localhost'><reason>enough</reason></item>",
      )
    ).attrs.type,
    'result',
  )
  const banned = await presenceFrom(carol, `${ROOM}/Carol`)
  assert.deepEqual(statusCodes(banned), [301, 110])
  assert.equal(banned.getChild('x', MUC_USER)!.getChild('item')!.attrs.affiliation, 'outcast')
  assert.deepEqual(statusCodes(await presenceFrom(bob, `${ROOM}/Carol`)), [301])
  await carol.xmpp.send(
    xml`<presence to='${ROOM}/Carol'><x xmlns='http://jabber.org/protocol/muc'/></presence>`,
  )
  assert.equal(condition(await presenceFrom(carol, `${ROOM}/Carol`)), 'forbidden')
  const outcasts = await iq(
    bob,
    xml`<iq type='get' id='l4' to='${ROOM}'><query xmlns='http://jabber.org/protocol/muc#admin'><item affiliation='outcast'/></query></iq>`,
  )
  assert.equal(
    canonical(outcasts.getChild('query')!),
    canonical(
      `<query xmlns='http://jabber.org/protocol/muc#admin'><item affiliation='outcast' jid='carol@paranoim.localhost'/></query>`,
    ),
  )
  // A non-occupant cannot speak; a groupchat to an occupant is bad-request.
  await carol.xmpp.send(xml`<message type='groupchat' to='${ROOM}' id='n1'><body>let me in</body></message>`)
  assert.equal(condition(await carol.next((el) => el.attrs.id === 'n1')), 'not-acceptable')
  await bob.xmpp.send(xml`<message type='groupchat' to='${ROOM}/Alice' id='n2'><body>x</body></message>`)
  assert.equal(condition(await bob.next((el) => el.attrs.id === 'n2')), 'bad-request')
})

test('destroy: everyone leaves with the reason and the alternate room; a temporary room vanishes when empty', async () => {
  await settle()
  const destroyed = await iq(
    bob,
    xml`<iq type='set' id='x1' to='${ROOM}'><query xmlns='http://jabber.org/protocol/muc#owner'><destroy/></query></iq>`,
  )
  assert.equal(condition(destroyed), 'forbidden')
  assert.equal(
    (
      await iq(
        alice,
        xml`
      <iq type='set' id='x2' to='${ROOM}'><query xmlns='http://jabber.org/protocol/muc#owner'>
        <destroy jid='other@${CONF}'><reason>moving</reason></destroy></query></iq>`,
      )
    ).attrs.type,
    'result',
  )
  assert.equal(
    shape(await presenceFrom(bob, `${ROOM}/Bob`)),
    canonical(`
      <presence type='unavailable' from='${ROOM}/Bob' to='${B}'>
        <x xmlns='${MUC_USER}'>
          <item affiliation='none' role='none' jid='${B}'/>
          <destroy jid='other@${CONF}'><reason>moving</reason></destroy>
          <status code='110'/>
        </x>${OID}
      </presence>`),
  )
  const info = await iq(
    alice,
    xml`<iq type='get' id='x3' to='${ROOM}'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`,
  )
  assert.equal(condition(info), 'item-not-found')

  // An instant room of bob's: when he leaves (or his client goes away), it is gone.
  await join(bob, `${'tmp'}@${CONF}/Bob`)
  await exchange(
    bob,
    xml`<iq type='set' id='t1' to='tmp@${CONF}'><query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'/></query></iq>`,
  )
  await bob.xmpp.send(xml`<presence type='unavailable'/>`)
  await nextFrom(bob, `tmp@${CONF}/Bob`, (el: Element) => el.attrs.type === 'unavailable')
  assert.equal(
    condition(
      await iq(
        alice,
        xml`<iq type='get' id='x4' to='tmp@${CONF}'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`,
      ),
    ),
    'item-not-found',
  )
})

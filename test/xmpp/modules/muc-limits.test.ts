import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { defaultConfig } from '../../../bridge/config/schema.js'
import { silentLogger } from '../../../bridge/log.js'
import { createXmppServer, type XmppServer } from '../../../bridge/xmpp/server.js'
import { type TestClient, trustCertificate } from '../client.js'
import { startServer, type TestServer } from '../harness.js'
import { online } from './contacts.js'
import { CONF, condition, join, nextFrom } from './muc-helpers.js'
import { iq, xml } from './stanzas.js'

// Limits from [xmpp.muc], hostile input, and persistent rooms across a restart.

let t: TestServer
let restarted: XmppServer | undefined
let alice: TestClient
let bob: TestClient
let carol: TestClient
before(async () => {
  t = await startServer({
    accounts: ['alice', 'bob', 'carol'],
    xmpp: {
      muc: {
        ...defaultConfig().xmpp.muc,
        maxRoomsPerAccount: 2,
        maxOccupants: 2,
        maxNickLength: 8,
        maxMessageBytes: 512,
        historyMessages: 2,
      },
    },
  })
  trustCertificate(t.cert)
  alice = await online(t.starttlsPort, 'alice', 'pc')
  bob = await online(t.starttlsPort, 'bob', 'pc')
  carol = await online(t.starttlsPort, 'carol', 'pc')
})
after(async () => {
  for (const c of [alice, bob, carol]) await c.stop()
  await restarted?.stop()
  await t.stop()
})

const ROOM = `keep@${CONF}`

async function refused(client: TestClient, stanza: string, from: string): Promise<string | undefined> {
  await client.xmpp.send(xml`${stanza}`)
  return condition(await nextFrom(client, from, (el) => el.attrs.type === 'error'))
}

const owner = (id: string, body: string) =>
  iq(
    alice,
    xml`<iq type='set' id='${id}' to='${ROOM}'><query xmlns='http://jabber.org/protocol/muc#owner'>${body}</query></iq>`,
  )
const form = (fields: string) =>
  `<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#roomconfig</value></field>${fields}</x>`

test('limits: nick length, occupants per room, message size, rooms per account', async () => {
  assert.equal(
    await refused(
      alice,
      `<presence to='${ROOM}/Alexandra-the-Great'><x xmlns='http://jabber.org/protocol/muc'/></presence>`,
      `${ROOM}/Alexandra-the-Great`,
    ),
    'not-acceptable',
  )
  await join(alice, `${ROOM}/Alice`)
  assert.equal((await owner('c1', form(''))).attrs.type, 'result')
  await join(bob, `${ROOM}/Bob`)
  const full = await (async () => {
    await carol.xmpp.send(
      xml`<presence to='${ROOM}/Carol'><x xmlns='http://jabber.org/protocol/muc'/></presence>`,
    )
    return nextFrom(carol, `${ROOM}/Carol`)
  })()
  assert.equal(condition(full), 'service-unavailable')
  assert.equal(full.getChild('error')!.attrs.type, 'wait')
  assert.equal(
    await refused(
      bob,
      `<message type='groupchat' to='${ROOM}' id='big'><body>${'x'.repeat(600)}</body></message>`,
      ROOM,
    ),
    'policy-violation',
  )
  await join(alice, `second@${CONF}/Alice`)
  assert.equal(
    await refused(
      alice,
      `<presence to='third@${CONF}/Alice'><x xmlns='http://jabber.org/protocol/muc'/></presence>`,
      `third@${CONF}/Alice`,
    ),
    'not-allowed',
  )
  await alice.xmpp.send(xml`<presence to='second@${CONF}/Alice' type='unavailable'/>`)
  await nextFrom(alice, `second@${CONF}/Alice`, (el) => el.attrs.type === 'unavailable')
})

test('hostile input: forms, items, addresses and stanzas the service refuses with the right error', async () => {
  const cases: [string, string][] = [
    [form("<field var='muc#roomconfig_nonsense'><value>1</value></field>"), 'bad-request'],
    [form("<field var='constructor'><value>1</value></field>"), 'bad-request'],
    [form("<field var='muc#roomconfig_persistentroom'><value>maybe</value></field>"), 'not-acceptable'],
    [form("<field var='muc#roomconfig_maxusers'><value>1000000</value></field>"), 'not-acceptable'],
    [form("<field var='muc#roomconfig_whois'><value>everyone</value></field>"), 'not-acceptable'],
    [
      form(`<field var='muc#roomconfig_roomname'><value>${'n'.repeat(300)}</value></field>`),
      'not-acceptable',
    ],
    [form("<field var='muc#roomconfig_roomname'><value>a</value><value>b</value></field>"), 'not-acceptable'],
    [form("<field var='muc#roomconfig_roomname'/><field var='muc#roomconfig_roomname'/>"), 'bad-request'],
    [
      "<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>urn:other</value></field></x>",
      'bad-request',
    ],
    ["<x xmlns='jabber:x:data' type='result'/>", 'bad-request'],
    ['<nonsense/>', 'bad-request'],
    ["<destroy jid='bad@@jid'/>", 'jid-malformed'],
  ]
  for (const [body, expected] of cases) assert.equal(condition(await owner('h', body)), expected, body)
  const admin = (items: string) =>
    iq(
      alice,
      xml`<iq type='set' id='h2' to='${ROOM}'><query xmlns='http://jabber.org/protocol/muc#admin'>${items}</query></iq>`,
    )
  for (const [items, expected] of [
    ["<item affiliation='king' jid='bob@paranoim.localhost'/>", 'bad-request'],
    ["<item affiliation='member' jid='constructor'/>", 'jid-malformed'],
    ["<item affiliation='member'/>", 'bad-request'],
    ["<item affiliation='member' role='none' nick='Bob'/>", 'bad-request'],
    ['', 'bad-request'],
    ["<item role='none' nick='Bob'/>".repeat(51), 'bad-request'],
  ] as const)
    assert.equal(condition(await admin(items)), expected, items)
  const two = await iq(
    alice,
    xml`<iq type='get' id='h3' to='${ROOM}'><query xmlns='http://jabber.org/protocol/disco#info'/><ping xmlns='urn:xmpp:ping'/></iq>`,
  )
  assert.equal(condition(two), 'bad-request')
  const vcard = await iq(alice, xml`<iq type='get' id='h4' to='${ROOM}'><vCard xmlns='vcard-temp'/></iq>`)
  assert.equal(condition(vcard), 'service-unavailable')
  const list = await iq(
    alice,
    xml`<iq type='get' id='h5' to='${ROOM}'><query xmlns='http://jabber.org/protocol/muc#admin'><item affiliation='none'/></query></iq>`,
  )
  assert.equal(condition(list), 'bad-request')
  assert.equal(await refused(alice, `<presence to='${ROOM}'/>`, ROOM), 'jid-malformed')
  assert.equal(await refused(carol, `<presence to='${ROOM}/  '/>`, `${ROOM}/  `), 'jid-malformed')
  assert.equal(
    await refused(alice, `<message type='chat' to='${ROOM}' id='h6'><body>?</body></message>`, ROOM),
    'bad-request',
  )
  assert.equal(
    await refused(alice, `<message to='${CONF}' id='h7'><body>?</body></message>`, CONF),
    'service-unavailable',
  )
  assert.equal(
    await refused(
      alice,
      `<message to='${ROOM}' id='h8'><x xmlns='http://jabber.org/protocol/muc#user'><invite to='@@'/></x></message>`,
      ROOM,
    ),
    'jid-malformed',
  )
  assert.equal(
    await refused(
      alice,
      `<message type='groupchat' to='nowhere@${CONF}' id='h9'><body>?</body></message>`,
      `nowhere@${CONF}`,
    ),
    'item-not-found',
  )
  // Still working after all that.
  await bob.xmpp.send(xml`<message type='groupchat' to='${ROOM}' id='ok'><body>still here</body></message>`)
  await nextFrom(alice, `${ROOM}/Bob`, (el) => el.attrs.id === 'ok')
})

test('persistence: a persistent room keeps config, affiliations, subject and recent history across a restart', async () => {
  assert.equal(
    (
      await owner(
        'p1',
        form(
          `<field var='muc#roomconfig_persistentroom'><value>1</value></field><field var='muc#roomconfig_roomname'><value>Kept</value></field>`,
        ),
      )
    ).attrs.type,
    'result',
  )
  await iq(
    alice,
    xml`<iq type='set' id='p2' to='${ROOM}'><query xmlns='http://jabber.org/protocol/muc#admin'><item affiliation='member' jid='carol@paranoim.localhost'/></query></iq>`,
  )
  await alice.xmpp.send(xml`<message type='groupchat' to='${ROOM}'><subject>Kept subject</subject></message>`)
  for (const n of [1, 2, 3]) {
    await bob.xmpp.send(
      xml`<message type='groupchat' to='${ROOM}' id='k${n}'><body>message ${n}</body></message>`,
    )
    await nextFrom(alice, `${ROOM}/Bob`, (el) => el.attrs.id === `k${n}`)
  }
  // A temporary room of bob's, to check it does not come back.
  await join(bob, `fleeting@${CONF}/Bob`)

  for (const c of [alice, bob, carol]) await c.stop()
  await t.server.stop()
  restarted = createXmppServer({ config: t.config, store: t.store, log: silentLogger })
  await restarted.start()
  const port = restarted.ports().starttls
  alice = await online(port, 'alice', 'pc')
  bob = await online(port, 'bob', 'pc')
  carol = await online(port, 'carol', 'pc')

  const got = await join(carol, `${ROOM}/Carol`)
  const bodies = got.filter((el) => el.getChild('body')).map((el) => el.getChildText('body'))
  assert.deepEqual(bodies, ['message 2', 'message 3'])
  assert.equal(got.at(-1)!.getChildText('subject'), 'Kept subject')
  assert.equal(got.at(-1)!.attrs.from, `${ROOM}/Alice`)
  const info = await iq(
    carol,
    xml`<iq type='get' id='p3' to='${ROOM}'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`,
  )
  assert.equal(info.getChild('query')!.getChild('identity')!.attrs.name, 'Kept')
  const members = await iq(
    alice,
    xml`<iq type='get' id='p4' to='${ROOM}'><query xmlns='http://jabber.org/protocol/muc#admin'><item affiliation='member'/></query></iq>`,
  )
  assert.deepEqual(
    members
      .getChild('query')!
      .getChildren('item')
      .map((i) => i.attrs.jid),
    ['carol@paranoim.localhost'],
  )
  const owners = await iq(
    alice,
    xml`<iq type='get' id='p5' to='${ROOM}'><query xmlns='http://jabber.org/protocol/muc#admin'><item affiliation='owner'/></query></iq>`,
  )
  assert.deepEqual(
    owners
      .getChild('query')!
      .getChildren('item')
      .map((i) => i.attrs.jid),
    ['alice@paranoim.localhost'],
  )
  const gone = await iq(
    bob,
    xml`<iq type='get' id='p6' to='fleeting@${CONF}'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`,
  )
  assert.equal(condition(gone), 'item-not-found')
})

test('[xmpp.muc] enabled = false: no service, not listed; its domain is like any other remote one', async () => {
  const off = await startServer({
    accounts: ['alice'],
    xmpp: { muc: { ...defaultConfig().xmpp.muc, enabled: false } },
  })
  try {
    trustCertificate(off.cert)
    const client = await online(off.starttlsPort, 'alice', 'pc')
    const items = await iq(
      client,
      xml`<iq type='get' id='o1' to='paranoim.localhost'><query xmlns='http://jabber.org/protocol/disco#items'/></iq>`,
    )
    assert.equal(items.getChild('query')!.getChildElements().length, 0)
    const info = await iq(
      client,
      xml`<iq type='get' id='o2' to='${CONF}'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`,
    )
    assert.equal(condition(info), 'remote-server-not-found')
    await client.stop()
  } finally {
    await off.stop()
    trustCertificate(t.cert)
  }
})

import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { createElement } from 'ltx'
import { XMPPError } from '../../../bridge/xmpp/errors.js'
import { defaultModules } from '../../../bridge/xmpp/modules/index.js'
import { createMucModule, type MucAction } from '../../../bridge/xmpp/modules/muc/index.js'
import { type TestClient, trustCertificate } from '../client.js'
import { startServer, type TestServer } from '../harness.js'
import { online } from './contacts.js'
import { CONF, condition, join, MUC_USER, nextFrom, shape, statusCodes } from './muc-helpers.js'
import { canonical, iq, nothing, xml } from './stanzas.js'

// The network port: local actions are proposed to it first (and may be refused);
// remote events applied through `remote` reach local clients as XEP-0045 stanzas.

const actions: MucAction[] = []
/** What the fake network refuses, as the gateway would on a membership check. */
let refuse: (action: MucAction) => XMPPError | undefined = () => undefined
/** Entries the port was asked to locate first (an open network room joined by address). */
const located: { room: string; account: string; nick: string }[] = []
const muc = createMucModule({
  port: {
    async propose(action) {
      const error = refuse(action)
      if (error) throw error
      actions.push(action)
    },
    async locate(entry) {
      located.push(entry)
      if (entry.room === 'closed') throw new XMPPError('registration-required', 'members-only')
      // The network brings the room (as the gateway's mirror does, through remote) before the entry goes on.
      if (entry.room === 'found') await muc.remote.configure('found', { name: 'Found' })
    },
  },
})

let t: TestServer
let alice: TestClient
let bob: TestClient
before(async () => {
  t = await startServer({
    accounts: ['alice', 'bob'],
    modules: [...defaultModules.filter((m) => m.name !== 'muc'), muc],
  })
  trustCertificate(t.cert)
  alice = await online(t.starttlsPort, 'alice', 'pc')
  bob = await online(t.starttlsPort, 'bob', 'pc')
})
after(async () => {
  await alice.stop()
  await bob.stop()
  await t.stop()
})

const ROOM = `net@${CONF}`
const A = 'alice@paranoim.localhost/pc'
const REMOTE = 'abcd1234'
const REMOTE_JID = `${REMOTE}@paranoim.localhost`

/** The first action of `type` the port was given, once it arrives (the client's stanza is on its way). */
async function proposed(type: MucAction['type']): Promise<MucAction> {
  for (let waited = 0; waited < 5000; waited += 20) {
    const action = actions.find((a) => a.type === type)
    if (action) return action
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  throw new Error(`the port was never asked for ${type}`)
}

const strip = (action: MucAction) => {
  const { stamp, ...rest } = action
  assert.ok(Math.abs(stamp - Date.now()) < 10_000)
  return JSON.parse(JSON.stringify(rest, (_k, v) => (v?.name && v.attrs ? v.toString() : v)))
}

test('local actions go through the port first, with what the network needs; a refusal is the client’s error', async () => {
  await join(alice, `${ROOM}/Alice`)
  await iq(
    alice,
    xml`<iq type='set' id='c1' to='${ROOM}'><query xmlns='http://jabber.org/protocol/muc#owner'><x xmlns='jabber:x:data' type='submit'><field var='x-paranoim-mode'><value>high</value></field></x></query></iq>`,
  )
  assert.deepEqual(
    actions.map((a) => [a.type, a.room, a.account, a.nick]),
    [
      ['create', 'net', 'alice', 'Alice'],
      ['configure', 'net', 'alice', 'Alice'],
    ],
  )
  assert.equal(actions[1]!.type === 'configure' && actions[1]!.config.mode, 'high')
  actions.length = 0

  await alice.xmpp.send(
    xml`<message type='groupchat' to='${ROOM}' id='m1'><body>hello network</body></message>`,
  )
  const echo = await nextFrom(alice, `${ROOM}/Alice`, (el) => el.attrs.id === 'm1')
  const sent = actions.shift()!
  assert.equal(sent.type, 'message')
  assert.deepEqual(strip(sent), {
    type: 'message',
    room: 'net',
    account: 'alice',
    nick: 'Alice',
    id: echo.getChild('stanza-id')!.attrs.id,
    clientId: 'm1',
    payload: ['<body>hello network</body>'],
  })

  // Refused by the network: the client gets the port's error; nothing is broadcast.
  refuse = (a) =>
    a.type === 'message' || (a.type === 'join' && a.account === 'bob')
      ? new XMPPError('forbidden', 'not in the signed membership')
      : undefined
  await alice.xmpp.send(xml`<message type='groupchat' to='${ROOM}' id='m2'><body>refused</body></message>`)
  const error = await alice.next((el) => el.attrs.id === 'm2')
  assert.equal(
    canonical(error),
    canonical(`
      <message type='error' id='m2' from='${ROOM}' to='${A}'>
        <error type='auth'><forbidden xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>
          <text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas' xml:lang='en'>not in the signed membership</text></error>
      </message>`),
  )
  await bob.xmpp.send(xml`<presence to='${ROOM}/Bob'><x xmlns='http://jabber.org/protocol/muc'/></presence>`)
  assert.equal(condition(await nextFrom(bob, `${ROOM}/Bob`)), 'forbidden')
  assert.ok(await nothing(alice, (el) => el.attrs.from === `${ROOM}/Bob`, 100))
  refuse = () => undefined
  await join(bob, `${ROOM}/Bob`)
  await nextFrom(alice, `${ROOM}/Bob`)
  assert.deepEqual(
    actions.map((a) => a.type),
    ['join'],
  )
  actions.length = 0
})

test('remote occupants: join, messages (old → delay), PMs both ways, subject, nick, ban and kick by a remote admin, leave', async () => {
  await muc.remote.join('net', {
    address: REMOTE,
    nick: 'Remy',
    presence: [createElement('status', {}, 'from afar')],
  })
  // Alice moderates: she sees the remote occupant's real JID, <address>@<domain>.
  assert.equal(
    shape(await nextFrom(alice, `${ROOM}/Remy`)),
    canonical(`
      <presence from='${ROOM}/Remy' to='${A}'><status>from afar</status>
        <x xmlns='${MUC_USER}'><item affiliation='none' role='participant' jid='${REMOTE_JID}'/></x>
        <occupant-id xmlns='urn:xmpp:occupant-id:0' id='OID'/>
      </presence>`),
  )
  const stamp = Date.now() - 3_600_000
  await muc.remote.message('net', {
    address: REMOTE,
    id: 'r1',
    stamp,
    payload: [createElement('body', {}, 'old news')],
  })
  const old = await nextFrom(bob, `${ROOM}/Remy`, (el) => el.name === 'message')
  assert.equal(
    shape(old),
    canonical(`
      <message type='groupchat' from='${ROOM}/Remy' id='r1' to='bob@paranoim.localhost/pc'>
        <body>old news</body><stanza-id xmlns='urn:xmpp:sid:0' id='SID' by='${ROOM}'/>
        <occupant-id xmlns='urn:xmpp:occupant-id:0' id='OID'/>
        <delay xmlns='urn:xmpp:delay' from='${ROOM}' stamp='STAMP'/>
      </message>`),
  )
  assert.equal(old.getChild('delay')!.attrs.stamp, new Date(stamp).toISOString())
  // In the history a later joiner gets, it keeps its one delay with the original time.
  const phone = await online(t.starttlsPort, 'alice', 'phone')
  const history = (await join(phone, `${ROOM}/Alice`)).filter((el) => el.getChildText('body') === 'old news')
  assert.deepEqual(
    history.map((el) => el.getChildren('delay').map((d) => d.attrs.stamp)),
    [[new Date(stamp).toISOString()]],
  )
  await phone.stop()

  // A PM to the remote occupant goes to the network only; one from it reaches alice.
  await alice.xmpp.send(xml`<message type='chat' to='${ROOM}/Remy' id='p1'><body>hi remy</body></message>`)
  const pm = await proposed('private-message')
  assert.ok(pm && pm.type === 'private-message')
  assert.deepEqual([pm.to, pm.toAddress, pm.clientId, pm.nick], ['Remy', REMOTE, 'p1', 'Alice'])
  await muc.remote.message('net', {
    address: REMOTE,
    id: 'r2',
    stamp: Date.now(),
    payload: [createElement('body', {}, 'hi alice')],
    to: 'Alice',
  })
  const incoming = await nextFrom(alice, `${ROOM}/Remy`, (el) => el.attrs.id === 'r2')
  assert.equal(incoming.attrs.type, 'chat')
  assert.ok(incoming.getChild('x', MUC_USER))

  await muc.remote.subject('net', { address: REMOTE, subject: 'Network news', stamp: Date.now() })
  assert.equal(
    (await nextFrom(alice, `${ROOM}/Remy`, (el) => el.getChild('subject') !== undefined)).getChildText(
      'subject',
    ),
    'Network news',
  )
  // A remote occupant's show/status change (§7.7.1) is broadcast as its presence, with the new children.
  await muc.remote.changePresence('net', REMOTE, [
    createElement('show', {}, 'away'),
    createElement('status', {}, 'lunch'),
  ])
  const away = await nextFrom(
    bob,
    `${ROOM}/Remy`,
    (el) => el.name === 'presence' && el.getChild('show') !== undefined,
  )
  assert.deepEqual(
    [away.attrs.type, away.getChildText('show'), away.getChildText('status')],
    [undefined, 'away', 'lunch'],
  )
  await assert.rejects(
    muc.remote.changePresence('net', 'ffff0000', []),
    (err: unknown) => err instanceof XMPPError && err.condition === 'item-not-found',
  )
  await muc.remote.changeNick('net', REMOTE, 'Remo')
  assert.deepEqual(
    statusCodes(await nextFrom(alice, `${ROOM}/Remy`, (el) => el.attrs.type === 'unavailable')),
    [303],
  )
  await nextFrom(alice, `${ROOM}/Remo`)
  await assert.rejects(
    muc.remote.changeNick('net', REMOTE, 'Alice'),
    (e: XMPPError) => e.condition === 'conflict',
  )
  await assert.rejects(
    muc.remote.join('nowhere', { address: REMOTE, nick: 'x' }),
    (e: XMPPError) => e.condition === 'item-not-found',
  )

  // A remote admin bans bob (with the reason), then kicks... alice may be kicked by the network: it decides.
  await muc.remote.affiliation('net', {
    actor: REMOTE,
    target: 'bob@paranoim.localhost',
    affiliation: 'outcast',
    reason: 'spam',
  })
  const banned = await nextFrom(bob, `${ROOM}/Bob`, (el) => el.attrs.type === 'unavailable')
  assert.deepEqual(statusCodes(banned), [301, 110])
  assert.equal(
    canonical(banned.getChild('x', MUC_USER)!.getChild('item')!),
    canonical(
      `<item affiliation='outcast' role='none' jid='bob@paranoim.localhost/pc'><actor nick='Remo'/><reason>spam</reason></item>`,
    ),
  )
  await bob.xmpp.send(xml`<presence to='${ROOM}/Bob'><x xmlns='http://jabber.org/protocol/muc'/></presence>`)
  assert.equal(condition(await nextFrom(bob, `${ROOM}/Bob`)), 'forbidden')

  await muc.remote.leave('net', REMOTE, 'bye')
  const left = await nextFrom(alice, `${ROOM}/Remo`, (el) => el.attrs.type === 'unavailable')
  assert.equal(left.getChild('x', MUC_USER)!.getChild('item')!.attrs.role, 'none')
  assert.equal(left.getChildText('status'), 'bye')
  await muc.remote.join('net', { address: REMOTE, nick: 'Remy' })
  await nextFrom(alice, `${ROOM}/Remy`)
  await muc.remote.role('net', { actor: REMOTE, nick: 'Alice', role: 'none', reason: 'network says so' })
  const kicked = await nextFrom(alice, `${ROOM}/Alice`, (el) => el.attrs.type === 'unavailable')
  assert.deepEqual(statusCodes(kicked), [307, 110])
  assert.equal(kicked.getChild('x', MUC_USER)!.getChild('item')!.getChildText('reason'), 'network says so')
})

test('remote configuration creates a network room; members-only by the network; remote destroy', async () => {
  await assert.rejects(
    muc.remote.configure('Bad Name', {}),
    (e: XMPPError) => e.condition === 'jid-malformed',
  )
  await muc.remote.configure('group1', { name: 'From the network', membersOnly: true })
  const info = await iq(
    alice,
    xml`<iq type='get' id='i1' to='group1@${CONF}'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`,
  )
  assert.equal(info.getChild('query')!.getChild('identity')!.attrs.name, 'From the network')
  assert.ok(
    info
      .getChild('query')!
      .getChildren('feature')
      .some((f) => f.attrs.var === 'muc_persistent'),
  )
  await alice.xmpp.send(
    xml`<presence to='group1@${CONF}/Alice'><x xmlns='http://jabber.org/protocol/muc'/></presence>`,
  )
  assert.equal(condition(await nextFrom(alice, `group1@${CONF}/Alice`)), 'registration-required')
  await muc.remote.affiliation('group1', {
    actor: REMOTE,
    target: 'alice@paranoim.localhost',
    affiliation: 'member',
  })
  const joined = await join(alice, `group1@${CONF}/Alice`)
  assert.equal(joined[0]!.getChild('x', MUC_USER)!.getChild('item')!.attrs.affiliation, 'member')
  await muc.remote.destroy('group1', { reason: 'dissolved' })
  const gone = await nextFrom(alice, `group1@${CONF}/Alice`, (el) => el.attrs.type === 'unavailable')
  assert.equal(gone.getChild('x', MUC_USER)!.getChild('destroy')!.getChildText('reason'), 'dissolved')
  await assert.rejects(
    muc.remote.message('group1', { address: REMOTE, id: 'x', stamp: 0, payload: [] }),
    (e: XMPPError) => e.condition === 'item-not-found',
  )
})

test("remote invitation: the room passes the network member's invitation on to a local account", async () => {
  await muc.remote.configure('group2', { name: 'Invited', membersOnly: true })
  await muc.remote.invite('group2', { account: 'bob', from: REMOTE, reason: 'join us' })
  const invite = await nextFrom(bob, `group2@${CONF}`)
  const item = invite.getChild('x', MUC_USER)!.getChild('invite')!
  assert.equal(item.attrs.from, REMOTE_JID)
  assert.equal(item.getChildText('reason'), 'join us')
  assert.equal(invite.getChildText('body'), `${REMOTE_JID} invites you to Invited: join us`)
  // Declining (§7.8.2) is proposed to the network (which drops a held invitation) before it goes to the inviter.
  actions.length = 0
  await bob.xmpp.send(
    xml`<message to='group2@${CONF}'><x xmlns='${MUC_USER}'><decline to='${REMOTE_JID}'><reason>no</reason></decline></x></message>`,
  )
  assert.deepEqual(strip(await proposed('decline')), {
    type: 'decline',
    room: 'group2',
    account: 'bob',
    nick: '',
    to: REMOTE_JID,
    reason: 'no',
  })
  await assert.rejects(
    muc.remote.invite('nowhere', { account: 'bob', from: REMOTE }),
    (e: XMPPError) => e.condition === 'item-not-found',
  )
})

test("remote decline: the room passes a network member's decline (§7.8.2) on to the local inviter", async () => {
  await muc.remote.configure('group5', { name: 'Declined', membersOnly: true })
  await muc.remote.decline('group5', { account: 'bob', from: REMOTE, reason: 'busy' })
  const declined = await nextFrom(bob, `group5@${CONF}`)
  const decline = declined.getChild('x', MUC_USER)!.getChild('decline')!
  assert.equal(decline.attrs.from, REMOTE_JID)
  assert.equal(decline.getChildText('reason'), 'busy')
  await muc.remote.decline('group5', { account: 'bob', from: REMOTE })
  const bare = await nextFrom(bob, `group5@${CONF}`)
  assert.equal(bare.getChild('x', MUC_USER)!.getChild('decline')!.getChild('reason'), undefined)
  await assert.rejects(
    muc.remote.decline('nowhere', { account: 'bob', from: REMOTE }),
    (e: XMPPError) => e.condition === 'item-not-found',
  )
  await assert.rejects(
    muc.remote.decline('group5', { account: 'bob', from: 'Not An Address!' }),
    (e: XMPPError) => e.condition === 'bad-request' || e.condition === 'jid-malformed',
  )
})

test('a XEP-0249 direct invitation to one of our rooms is proposed as an invitation too, and reaches the invitee unchanged', async () => {
  refuse = () => undefined
  actions.length = 0
  await join(alice, `direct@${CONF}/Alice`)
  await alice.xmpp.send(
    xml`<message to='${REMOTE_JID}' id='d1'><x xmlns='jabber:x:conference' jid='direct@${CONF}' reason='come in'/></message>`,
  )
  const invite = await proposed('invite')
  assert.deepEqual(
    [invite.room, invite.account, invite.nick, invite.type === 'invite' && invite.invitee],
    ['direct', 'alice', 'Alice', REMOTE_JID],
  )
  assert.equal(invite.type === 'invite' && invite.reason, 'come in')

  // To a local account the client's own message arrives as sent; a refusal of the admission does not stop it.
  refuse = (a) =>
    a.type === 'invite' ? new XMPPError('forbidden', 'not an admin in the signed state') : undefined
  await alice.xmpp.send(
    xml`<message to='bob@paranoim.localhost' id='d2'><x xmlns='jabber:x:conference' jid='direct@${CONF}'/></message>`,
  )
  const direct = await bob.next((el) => el.attrs.id === 'd2')
  assert.equal(direct.getChild('x', 'jabber:x:conference')!.attrs.jid, `direct@${CONF}`)
  // Not an occupant of the room, or not one of our rooms: nothing is proposed.
  actions.length = 0
  await bob.xmpp.send(
    xml`<message to='alice@paranoim.localhost' id='d3'><x xmlns='jabber:x:conference' jid='direct@${CONF}'/></message>`,
  )
  await alice.next((el) => el.attrs.id === 'd3')
  assert.deepEqual(actions, [])
  refuse = () => undefined
})

test('before an entry the port may bring the room (an open network room): the entry is then a join, or its refusal', async () => {
  actions.length = 0
  located.length = 0
  const self = await join(bob, `found@${CONF}/Bob`)
  assert.ok(self.some((el) => statusCodes(el).includes(110)))
  assert.deepEqual(located, [{ room: 'found', account: 'bob', nick: 'Bob' }])
  assert.deepEqual(
    actions.map((a) => a.type),
    ['join'],
    'a join of the room the network brought, not a creation',
  )
  await bob.xmpp.send(
    xml`<presence to='closed@${CONF}/Bob'><x xmlns='http://jabber.org/protocol/muc'/></presence>`,
  )
  const refused = await nextFrom(bob, `closed@${CONF}/Bob`)
  assert.equal(refused.attrs.type, 'error')
  assert.equal(condition(refused), 'registration-required')
  // An occupant's presence update is no entry: not located again.
  await bob.xmpp.send(xml`<presence to='found@${CONF}/Bob'><show>away</show></presence>`)
  await proposed('presence')
  assert.equal(located.length, 2)
})

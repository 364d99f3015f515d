import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { type Element, createElement as xml } from 'ltx'
import { login, type TestClient, trustCertificate } from './client.js'
import { startServer, type TestServer } from './harness.js'

let t: TestServer
before(async () => {
  // No XEP-0198 resumption here, so a dropped connection is offline at once.
  t = await startServer({ accounts: ['alice', 'bob', 'carol'], limits: { smResumeTimeoutMs: 0 } })
  trustCertificate(t.cert)
})
after(() => t.stop())

const ALICE = 'alice@paranoim.localhost'
const BOB = 'bob@paranoim.localhost'
const ROSTER = 'jabber:iq:roster'

async function rosterGet(client: TestClient, ver?: string): Promise<Element> {
  return client.xmpp.iqCaller.request(xml('iq', { type: 'get' }, xml('query', { xmlns: ROSTER, ver })))
}

const isPush = (jid: string) => (el: Element) =>
  el.name === 'iq' &&
  el.attrs.type === 'set' &&
  el.getChild('query', ROSTER)?.getChild('item')?.attrs.jid === jid

async function push(client: TestClient, jid: string): Promise<Element> {
  return (await client.next(isPush(jid))).getChild('query')!.getChild('item')!
}

const presenceOf = (from: string, type?: string) => (el: Element) =>
  el.name === 'presence' && el.attrs.from?.startsWith(from) === true && el.attrs.type === type

test('roster set/push to every interested resource, versioning, and a full subscription handshake', async () => {
  const alicePc = await login(t.starttlsPort, 'alice', { resource: 'pc' })
  const alicePhone = await login(t.starttlsPort, 'alice', { resource: 'phone' })
  const bob = await login(t.starttlsPort, 'bob', { resource: 'desk' })
  for (const c of [alicePc, alicePhone, bob]) {
    const roster = await rosterGet(c)
    assert.deepEqual(roster.getChild('query')!.getChildren('item'), [])
    await c.xmpp.send(xml('presence'))
  }
  const version0 = (await rosterGet(alicePc)).getChild('query')!.attrs.ver

  // Add Bob with a name and a group: pushed to both of Alice's resources.
  await alicePc.xmpp.iqCaller.request(
    xml(
      'iq',
      { type: 'set' },
      xml('query', { xmlns: ROSTER }, xml('item', { jid: BOB, name: 'Bob' }, xml('group', {}, 'Friends'))),
    ),
  )
  for (const c of [alicePc, alicePhone]) {
    const item = await push(c, BOB)
    assert.deepEqual(item.attrs, { jid: BOB, name: 'Bob', subscription: 'none' })
    assert.equal(item.getChildText('group'), 'Friends')
  }
  // XEP-0237: the old version gets the full roster, the current one an empty result.
  const full = await rosterGet(alicePc, version0)
  const current = full.getChild('query')!.attrs.ver!
  assert.notEqual(current, version0)
  assert.equal(full.getChild('query')!.getChildren('item').length, 1)
  assert.equal((await rosterGet(alicePc, current)).getChild('query'), undefined)

  // Alice asks for Bob's presence.
  await alicePc.xmpp.send(
    xml('presence', { to: BOB, type: 'subscribe' }, xml('status', {}, 'hi, it is Alice')),
  )
  assert.equal((await push(alicePc, BOB)).attrs.ask, 'subscribe')
  const request = await bob.next((el) => el.name === 'presence' && el.attrs.type === 'subscribe')
  assert.equal(request.attrs.from, ALICE)
  assert.equal(request.getChildText('status'), 'hi, it is Alice')

  // Bob approves: both rosters change, Alice sees Bob online.
  await bob.xmpp.send(xml('presence', { to: ALICE, type: 'subscribed' }))
  assert.equal((await push(bob, ALICE)).attrs.subscription, 'from')
  assert.equal((await push(alicePc, BOB)).attrs.subscription, 'to')
  assert.equal((await alicePc.next((el) => el.attrs.type === 'subscribed')).attrs.from, BOB)
  await alicePc.next(presenceOf(`${BOB}/desk`))
  await alicePhone.next(presenceOf(`${BOB}/desk`))

  // Bob subscribes back and Alice approves: both ways, so Bob sees both of Alice's resources.
  await bob.xmpp.send(xml('presence', { to: ALICE, type: 'subscribe' }))
  assert.deepEqual((await push(bob, ALICE)).attrs, { jid: ALICE, subscription: 'from', ask: 'subscribe' })
  await alicePhone.next((el) => el.attrs.type === 'subscribe' && el.attrs.from === BOB)
  await alicePhone.xmpp.send(xml('presence', { to: BOB, type: 'subscribed' }))
  assert.equal((await push(alicePc, BOB)).attrs.subscription, 'both')
  assert.equal((await push(bob, ALICE)).attrs.subscription, 'both')
  await bob.next(presenceOf(`${ALICE}/pc`))
  await bob.next(presenceOf(`${ALICE}/phone`))

  // A resource that drops its connection is announced unavailable to subscribers.
  alicePhone.xmpp.socket!.socket!.destroy()
  await bob.next(presenceOf(`${ALICE}/phone`, 'unavailable'), 5000)

  // Removing Bob from Alice's roster cancels both directions.
  await alicePc.xmpp.iqCaller.request(
    xml(
      'iq',
      { type: 'set' },
      xml('query', { xmlns: ROSTER }, xml('item', { jid: BOB, subscription: 'remove' })),
    ),
  )
  assert.equal((await push(alicePc, BOB)).attrs.subscription, 'remove')
  await bob.next(presenceOf(ALICE, 'unsubscribe'))
  await bob.next(presenceOf(ALICE, 'unsubscribed'))
  await bob.next(presenceOf(`${ALICE}/pc`, 'unavailable'))
  const bobsView = (await rosterGet(bob)).getChild('query')!.getChildren('item')
  assert.deepEqual(
    bobsView.map((i) => i.attrs.subscription),
    ['none'],
  )
  for (const c of [alicePc, bob]) await c.stop()
})

test('a subscription request to an offline account waits and is delivered at its next presence; probes answer', async () => {
  const alice = await login(t.starttlsPort, 'alice', { resource: 'pc' })
  await rosterGet(alice)
  await alice.xmpp.send(xml('presence'))
  await alice.xmpp.send(xml('presence', { to: 'carol@paranoim.localhost', type: 'subscribe' }))
  await push(alice, 'carol@paranoim.localhost')
  const carol = await login(t.starttlsPort, 'carol', { resource: 'tab' })
  await rosterGet(carol)
  assert.deepEqual(
    (await rosterGet(carol)).getChild('query')!.getChildren('item'),
    [],
    'a request is not a roster item',
  )
  await carol.xmpp.send(xml('presence'))
  await carol.next((el) => el.attrs.type === 'subscribe' && el.attrs.from === ALICE)
  await carol.xmpp.send(xml('presence', { to: ALICE, type: 'subscribed' }))
  await alice.next(presenceOf('carol@paranoim.localhost/tab'))
  // Alice reconnects: her initial presence probes Carol, who answers with her presence.
  await alice.stop()
  const again = await login(t.starttlsPort, 'alice', { resource: 'pc2' })
  await again.xmpp.send(xml('presence'))
  await again.next(presenceOf('carol@paranoim.localhost/tab'))
  for (const c of [again, carol]) await c.stop()
})

test('roster sets with bad input are refused with the right errors', async () => {
  const alice = await login(t.starttlsPort, 'alice', { resource: 'x' })
  const set = (...items: Element[]) =>
    alice.xmpp.iqCaller.request(xml('iq', { type: 'set' }, xml('query', { xmlns: ROSTER }, ...items)))
  await assert.rejects(set(), /bad-request/)
  await assert.rejects(
    set(xml('item', { jid: BOB }), xml('item', { jid: 'carol@paranoim.localhost' })),
    /bad-request/,
  )
  await assert.rejects(set(xml('item', { jid: 'bad@@jid' })), /jid-malformed/)
  await assert.rejects(set(xml('item', { jid: ALICE })), /not-allowed/)
  await assert.rejects(
    set(xml('item', { jid: BOB }, xml('group', {}, 'a'), xml('group', {}, 'a'))),
    /bad-request/,
  )
  await assert.rejects(
    set(xml('item', { jid: 'nobody@paranoim.localhost', subscription: 'remove' })),
    /item-not-found/,
  )
  await assert.rejects(
    alice.xmpp.iqCaller.request(xml('iq', { type: 'get', to: BOB }, xml('query', { xmlns: ROSTER }))),
    /forbidden/,
  )
  await alice.stop()
})

test('a pre-approval and the contact’s request landing together: always accepted, never lost', async () => {
  // Alice pre-approves Bob while Bob's request is on its way (e.g. from the network):
  // whichever lands second must see the first, on every run.
  // The contacts are not reachable from this server (no gateway): the answers bounce, the roster counts.
  const unsent = () => undefined
  for (let round = 0; round < 20; round++) {
    const contact = `contact${round}`
    await Promise.all([
      t.server.subscriptionAs('alice', 'subscribed', `${contact}@paranoim.localhost`).catch(unsent),
      t.server
        .routeInbound(
          xml('presence', { type: 'subscribe', from: `${contact}@paranoim.localhost`, to: ALICE }),
        )
        .catch(unsent),
    ])
    const item = await t.server.rosterItem('alice', `${contact}@paranoim.localhost`)
    assert.equal(item?.subscription, 'from', `round ${round}`)
    assert.equal(item?.pendingIn, undefined, `round ${round}`)
    assert.equal(item?.approved, false, `round ${round}`)
  }
})

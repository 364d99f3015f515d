import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { createElement as xml } from 'ltx'
import { XMPPError } from '../../bridge/xmpp/errors.js'
import { login, type TestClient, trustCertificate } from './client.js'
import { startServer, type TestServer } from './harness.js'
import { RawClient } from './raw-client.js'

let t: TestServer
const routedRemotely: string[] = []
before(async () => {
  t = await startServer({
    accounts: ['alice', 'bob', 'carol', 'dave'],
    remote: {
      async route(stanza, to) {
        if (to.domain === 'example.org') throw new XMPPError('remote-server-not-found')
        routedRemotely.push(stanza.toString())
      },
    },
  })
  trustCertificate(t.cert)
})
after(() => t.stop())

const online = async (user: string, resource: string, priority = 0): Promise<TestClient> => {
  const client = await login(t.starttlsPort, user, { resource })
  await client.xmpp.send(xml('presence', {}, xml('priority', {}, String(priority))))
  await client.next((el) => el.name === 'presence' && el.attrs.from === client.jid)
  return client
}

const chat = (to: string, body: string, ...extra: ReturnType<typeof xml>[]) =>
  xml('message', { to, type: 'chat', id: body }, xml('body', {}, body), ...extra)

test('messages to a full JID reach that resource only; to the bare JID, the highest priority', async () => {
  const alice = await online('alice', 'pc')
  const bob1 = await online('bob', 'one', 5)
  const bob2 = await online('bob', 'two', 1)
  await alice.xmpp.send(chat('bob@paranoim.localhost/two', 'to-two'))
  const got = await bob2.next((el) => el.name === 'message')
  assert.equal(got.attrs.from, 'alice@paranoim.localhost/pc')
  assert.equal(got.getChildText('body'), 'to-two')
  await alice.xmpp.send(chat('bob@paranoim.localhost', 'to-bare'))
  assert.equal((await bob1.next((el) => el.name === 'message')).getChildText('body'), 'to-bare')
  await new Promise((r) => setTimeout(r, 100))
  assert.equal(bob2.stanzas.filter((el) => el.name === 'message').length, 0, 'lower priority gets nothing')
  for (const c of [alice, bob1, bob2]) await c.stop()
})

test('receipts, chat states, markers and corrections pass through untouched', async () => {
  const alice = await online('alice', 'pc')
  const bob = await online('bob', 'one')
  const payloads = [
    xml('request', { xmlns: 'urn:xmpp:receipts' }),
    xml('active', { xmlns: 'http://jabber.org/protocol/chatstates' }),
    xml('markable', { xmlns: 'urn:xmpp:chat-markers:0' }),
    xml('replace', { xmlns: 'urn:xmpp:message-correct:0', id: 'orig-1' }),
    xml('x', { xmlns: 'urn:example:custom', 'data-a': 'b' }, xml('deep', {}, 'text & <stuff>')),
  ]
  const sent = chat('bob@paranoim.localhost/one', 'payloads', ...payloads)
  await alice.xmpp.send(sent)
  const got = await bob.next((el) => el.name === 'message')
  // The archive (XEP-0313) may add its XEP-0359 <stanza-id/>; everything the sender wrote is untouched.
  const received = got.getChildElements().filter((el) => !el.is('stanza-id', 'urn:xmpp:sid:0'))
  assert.deepEqual(received.map(String), [xml('body', {}, 'payloads'), ...payloads].map(String))
  await alice.xmpp.send(
    xml(
      'message',
      { to: 'bob@paranoim.localhost/one', type: 'chat' },
      xml('received', { xmlns: 'urn:xmpp:receipts', id: 'payloads' }),
    ),
  )
  assert.equal((await bob.next((el) => el.name === 'message')).getChild('received')?.attrs.id, 'payloads')
  await alice.stop()
  await bob.stop()
})

test('a message to an offline account is stored and delivered with a delay stamp at the next presence', async () => {
  const alice = await online('alice', 'pc')
  await alice.xmpp.send(chat('carol@paranoim.localhost', 'while-away-1'))
  await alice.xmpp.send(chat('carol@paranoim.localhost/gone', 'while-away-2'))
  await alice.xmpp.iqCaller.request(
    xml('iq', { type: 'get', to: 'paranoim.localhost' }, xml('ping', { xmlns: 'urn:xmpp:ping' })),
  )
  const carol = await login(t.starttlsPort, 'carol', { resource: 'phone' })
  await new Promise((r) => setTimeout(r, 100))
  assert.equal(
    carol.stanzas.filter((el) => el.name === 'message').length,
    0,
    'nothing before initial presence',
  )
  await carol.xmpp.send(xml('presence'))
  const first = await carol.next((el) => el.name === 'message')
  const second = await carol.next((el) => el.name === 'message')
  assert.deepEqual(
    [first.getChildText('body'), second.getChildText('body')],
    ['while-away-1', 'while-away-2'],
  )
  assert.ok(first.getChild('delay', 'urn:xmpp:delay')?.attrs.stamp)
  await carol.xmpp.send(xml('presence', { type: 'unavailable' }))
  await carol.stop()
  const again = await online('carol', 'phone')
  await new Promise((r) => setTimeout(r, 100))
  assert.equal(again.stanzas.filter((el) => el.name === 'message').length, 0, 'delivered once only')
  await again.stop()
  await alice.stop()
})

test('IQs: ping answered, unknown payload service-unavailable, IQ to an absent resource bounced', async () => {
  const alice = await online('alice', 'pc')
  const pong = await alice.xmpp.iqCaller.request(
    xml('iq', { type: 'get', to: 'paranoim.localhost' }, xml('ping', { xmlns: 'urn:xmpp:ping' })),
  )
  assert.equal(pong.attrs.type, 'result')
  await assert.rejects(
    alice.xmpp.iqCaller.request(
      xml('iq', { type: 'get', to: 'paranoim.localhost' }, xml('query', { xmlns: 'urn:example:nothing' })),
    ),
    /service-unavailable/,
  )
  await assert.rejects(
    alice.xmpp.iqCaller.request(
      xml(
        'iq',
        { type: 'get', to: 'bob@paranoim.localhost/nowhere' },
        xml('ping', { xmlns: 'urn:xmpp:ping' }),
      ),
    ),
    /service-unavailable/,
  )
  await assert.rejects(
    alice.xmpp.iqCaller.request(
      xml('iq', { type: 'get', to: 'paranoim.localhost' }, xml('ping', { xmlns: 'urn:xmpp:ping' }, xml('x'))),
    ),
    /bad-request/,
  )
  await alice.stop()
})

test('IQs between two clients are delivered both ways', async () => {
  const alice = await online('alice', 'pc')
  const bob = await online('bob', 'one')
  const pending = alice.xmpp.iqCaller.request(
    xml('iq', { type: 'get', to: bob.jid }, xml('ping', { xmlns: 'urn:xmpp:ping' })),
  )
  assert.equal((await pending).attrs.from, bob.jid) // @xmpp/client answers pings itself
  await alice.stop()
  await bob.stop()
})

test('remote JIDs go to the remote router; its errors come back to the sender', async () => {
  const alice = await online('alice', 'pc')
  const address = 'a'.repeat(56)
  await alice.xmpp.send(chat(`${address}@paranoim.localhost`, 'to-network'))
  await alice.xmpp.send(chat('someone@example.org', 'to-nowhere'))
  const error = await alice.next((el) => el.name === 'message' && el.attrs.type === 'error')
  assert.equal(error.attrs.from, 'someone@example.org')
  assert.ok(error.getChild('error')?.getChild('remote-server-not-found'))
  assert.equal(routedRemotely.length, 1)
  assert.match(routedRemotely[0]!, /to-network/)
  await alice.stop()
})

test('the default remote router answers with an error, never silence', async () => {
  const other = await startServer({ accounts: ['erin'] })
  trustCertificate(other.cert)
  const erin = await login(other.starttlsPort, 'erin')
  await erin.xmpp.send(chat(`${'b'.repeat(56)}@paranoim.localhost`, 'x'))
  await erin.xmpp.send(chat('someone@example.org', 'y'))
  const conditions = [
    await erin.next((el) => el.attrs.type === 'error'),
    await erin.next((el) => el.attrs.type === 'error'),
  ].map((el) => el.getChild('error')!.getChildElements()[0]!.name)
  assert.deepEqual(conditions.sort(), ['recipient-unavailable', 'remote-server-not-found'])
  await erin.stop()
  await other.stop()
  trustCertificate(t.cert)
})

test('a spoofed from ends the stream with invalid-from; other sessions carry on', async () => {
  const bob = await online('bob', 'one')
  const raw = await RawClient.connect(t.starttlsPort)
  await raw.login(t.cert, 'dave', 'evil')
  raw.send(
    `<message from='bob@paranoim.localhost/one' to='alice@paranoim.localhost'><body>x</body></message>`,
  )
  assert.equal(await raw.streamError(), 'invalid-from')
  const pong = await bob.xmpp.iqCaller.request(
    xml('iq', { type: 'get', to: 'paranoim.localhost' }, xml('ping', { xmlns: 'urn:xmpp:ping' })),
  )
  assert.equal(pong.attrs.type, 'result')
  await bob.stop()
})

test('binding the same resource again: the new session wins, the old one gets a conflict stream error', async () => {
  const first = await RawClient.connect(t.starttlsPort)
  assert.equal(await first.login(t.cert, 'dave', 'desk'), 'dave@paranoim.localhost/desk')
  const second = await RawClient.connect(t.starttlsPort)
  assert.equal(await second.login(t.cert, 'dave', 'desk'), 'dave@paranoim.localhost/desk')
  assert.equal(await first.streamError(), 'conflict')
  // Legacy session establishment (RFC 3921) still answers, and the new session is fully usable.
  second.send(`<iq type='set' id='sess'><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>`)
  assert.equal((await second.next((el) => el.attrs.id === 'sess')).attrs.type, 'result')
  second.send(`<iq type='get' id='p' to='dave@paranoim.localhost'><ping xmlns='urn:xmpp:ping'/></iq>`)
  assert.equal((await second.next((el) => el.attrs.id === 'p')).attrs.type, 'result')
  second.close()
})

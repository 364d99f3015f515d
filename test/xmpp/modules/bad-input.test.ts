import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { login, trustCertificate } from '../client.js'
import { startServer, type TestServer } from '../harness.js'
import { iq, xml } from './stanzas.js'

// Malformed requests to every extension module get a specific stanza error; the session carries on.

let t: TestServer
before(async () => {
  t = await startServer({ accounts: ['alice'] })
  trustCertificate(t.cert)
})
after(() => t.stop())

const PUBSUB = 'http://jabber.org/protocol/pubsub'
const MAM_FORM = `<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>urn:xmpp:mam:2</value></field>`

const cases: [string, string, string][] = [
  [
    'disco#items of an unknown node',
    `<query xmlns='http://jabber.org/protocol/disco#items' node='x'/>`,
    'item-not-found',
  ],
  ['carbons enable as a get', `<enable xmlns='urn:xmpp:carbons:2'/>`, 'service-unavailable'],
  ['private storage without a fragment', `<query xmlns='jabber:iq:private'/>`, 'bad-request'],
  ['block without items', `<block xmlns='urn:xmpp:blocking'/>`, 'bad-request'],
  ['block an item without jid', `<block xmlns='urn:xmpp:blocking'><item/></block>`, 'bad-request'],
  [
    'publish without a node',
    `<pubsub xmlns='${PUBSUB}'><publish><item><x xmlns='urn:e'/></item></publish></pubsub>`,
    'bad-request',
  ],
  [
    'publish an item without payload',
    `<pubsub xmlns='${PUBSUB}'><publish node='n'><item/></publish></pubsub>`,
    'bad-request',
  ],
  [
    'publish two payloads',
    `<pubsub xmlns='${PUBSUB}'><publish node='n'><item><a xmlns='urn:e'/><b xmlns='urn:e'/></item></publish></pubsub>`,
    'bad-request',
  ],
  [
    'publish-options of another form type',
    `<pubsub xmlns='${PUBSUB}'><publish node='n'><item><a xmlns='urn:e'/></item></publish><publish-options><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>urn:other</value></field></x></publish-options></pubsub>`,
    'bad-request',
  ],
  [
    'a form with a field twice',
    `<pubsub xmlns='${PUBSUB}'><publish node='n'><item><a xmlns='urn:e'/></item></publish><publish-options><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>http://jabber.org/protocol/pubsub#publish-options</value></field><field var='pubsub#max_items'><value>1</value></field><field var='pubsub#max_items'><value>2</value></field></x></publish-options></pubsub>`,
    'bad-request',
  ],
  [
    'retract from a missing node',
    `<pubsub xmlns='${PUBSUB}'><retract node='missing'><item id='1'/></retract></pubsub>`,
    'item-not-found',
  ],
  [
    'pubsub subscribe (not offered)',
    `<pubsub xmlns='${PUBSUB}'><subscribe node='n' jid='alice@paranoim.localhost'/></pubsub>`,
    'feature-not-implemented',
  ],
  [
    'MAM with an unknown field',
    `<query xmlns='urn:xmpp:mam:2'>${MAM_FORM}<field var='fulltext'><value>x</value></field></x></query>`,
    'bad-request',
  ],
  [
    'MAM with a malformed with',
    `<query xmlns='urn:xmpp:mam:2'>${MAM_FORM}<field var='with'><value>a@b@c</value></field></x></query>`,
    'jid-malformed',
  ],
  [
    'MAM with a negative max',
    `<query xmlns='urn:xmpp:mam:2'><set xmlns='http://jabber.org/protocol/rsm'><max>-1</max></set></query>`,
    'bad-request',
  ],
  [
    'MAM before an unknown id',
    `<query xmlns='urn:xmpp:mam:2'><set xmlns='http://jabber.org/protocol/rsm'><before>zzz</before></set></query>`,
    'item-not-found',
  ],
]

test('each malformed request gets its stanza error, and the session still answers', async () => {
  const alice = await login(t.starttlsPort, 'alice', { resource: 'pc' })
  const got: string[] = []
  for (const [i, [, payload]] of cases.entries()) {
    // Queries of disco are gets; enabling carbons with a get is itself the mistake tested.
    const type = payload.startsWith('<enable') || payload.includes('disco#') ? 'get' : 'set'
    const reply = await iq(alice, xml`<iq type='${type}' id='bad${i}'>${payload}</iq>`)
    got.push(reply.getChild('error')?.getChildElements()[0]?.name ?? `no error: ${reply}`)
  }
  assert.deepEqual(
    got.map((condition, i) => `${cases[i]?.[0]}: ${condition}`),
    cases.map(([name, , condition]) => `${name}: ${condition}`),
  )
  const pong = await iq(
    alice,
    xml`<iq type='get' id='alive' to='paranoim.localhost'><ping xmlns='urn:xmpp:ping'/></iq>`,
  )
  assert.equal(pong.attrs.type, 'result')
  await alice.stop()
})

import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { Element } from 'ltx'
import { login, type TestClient, trustCertificate } from '../client.js'
import { startServer, type TestServer } from '../harness.js'
import { RawClient } from '../raw-client.js'
import { answerDiscoInfo, canonical, exchange, nothing, xml } from './stanzas.js'

// XEP-0030 disco#info/#items and XEP-0115 caps, as a client sees them.

let t: TestServer
before(async () => {
  t = await startServer({ accounts: ['alice', 'bob'] })
  trustCertificate(t.cert)
})
after(() => t.stop())

const SERVER_INFO = `
  <query xmlns='http://jabber.org/protocol/disco#info'>
    <identity category='server' type='im' name='ParanoIM'/>
    <feature var='http://jabber.org/protocol/caps'/>
    <feature var='http://jabber.org/protocol/disco#info'/>
    <feature var='http://jabber.org/protocol/disco#items'/>
    <feature var='jabber:iq:private'/>
    <feature var='urn:xmpp:blocking'/>
    <feature var='urn:xmpp:carbons:2'/>
    <feature var='urn:xmpp:ping'/>
    <feature var='vcard-temp'/>
  </query>`

test('disco#info of the server lists exactly the loaded features; disco#items lists the MUC service', async () => {
  const alice = await login(t.starttlsPort, 'alice', { resource: 'pc' })
  assert.equal(
    await exchange(
      alice,
      xml`
      <iq type='get' id='info1' to='paranoim.localhost'>
        <query xmlns='http://jabber.org/protocol/disco#info'/>
      </iq>`,
    ),
    canonical(`
      <iq type='result' id='info1' from='paranoim.localhost' to='alice@paranoim.localhost/pc'>${SERVER_INFO}</iq>`),
  )
  assert.equal(
    await exchange(
      alice,
      xml`
      <iq type='get' id='items1' to='paranoim.localhost'>
        <query xmlns='http://jabber.org/protocol/disco#items'/>
      </iq>`,
    ),
    canonical(`
      <iq type='result' id='items1' from='paranoim.localhost' to='alice@paranoim.localhost/pc'>
        <query xmlns='http://jabber.org/protocol/disco#items'>
          <item jid='conference.paranoim.localhost' name='Chatrooms'/>
        </query>
      </iq>`),
  )
  await alice.stop()
})

test("disco#info of an account's bare JID answers for the account; unknown nodes are item-not-found", async () => {
  const alice = await login(t.starttlsPort, 'alice', { resource: 'pc' })
  assert.equal(
    await exchange(
      alice,
      xml`
      <iq type='get' id='info2' to='bob@paranoim.localhost'>
        <query xmlns='http://jabber.org/protocol/disco#info'/>
      </iq>`,
    ),
    canonical(`
      <iq type='result' id='info2' from='bob@paranoim.localhost' to='alice@paranoim.localhost/pc'>
        <query xmlns='http://jabber.org/protocol/disco#info'>
          <identity category='account' type='registered'/>
          <identity category='pubsub' type='pep'/>
          <feature var='http://jabber.org/protocol/disco#info'/>
          <feature var='http://jabber.org/protocol/disco#items'/>
          <feature var='http://jabber.org/protocol/pubsub#access-open'/>
          <feature var='http://jabber.org/protocol/pubsub#access-presence'/>
          <feature var='http://jabber.org/protocol/pubsub#access-whitelist'/>
          <feature var='http://jabber.org/protocol/pubsub#auto-create'/>
          <feature var='http://jabber.org/protocol/pubsub#delete-nodes'/>
          <feature var='http://jabber.org/protocol/pubsub#item-ids'/>
          <feature var='http://jabber.org/protocol/pubsub#last-published'/>
          <feature var='http://jabber.org/protocol/pubsub#multi-items'/>
          <feature var='http://jabber.org/protocol/pubsub#persistent-items'/>
          <feature var='http://jabber.org/protocol/pubsub#publish'/>
          <feature var='http://jabber.org/protocol/pubsub#publish-options'/>
          <feature var='http://jabber.org/protocol/pubsub#retract-items'/>
          <feature var='http://jabber.org/protocol/pubsub#retrieve-items'/>
          <feature var='jabber:iq:private'/>
          <feature var='urn:xmpp:blocking'/>
          <feature var='urn:xmpp:mam:2'/>
          <feature var='urn:xmpp:sid:0'/>
          <feature var='vcard-temp'/>
        </query>
      </iq>`),
  )
  assert.equal(
    await exchange(
      alice,
      xml`
      <iq type='get' id='info3' to='paranoim.localhost'>
        <query xmlns='http://jabber.org/protocol/disco#info' node='urn:example:none'/>
      </iq>`,
    ),
    canonical(`
      <iq type='error' id='info3' from='paranoim.localhost' to='alice@paranoim.localhost/pc'>
        <error type='cancel'>
          <item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>
          <text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas' xml:lang='en'>no node urn:example:none</text>
        </error>
      </iq>`),
  )
  await alice.stop()
})

test("the stream features carry the server's caps, whose hash matches its disco#info at that node", async () => {
  const raw = await RawClient.connect(t.starttlsPort)
  await raw.open()
  await raw.starttls(t.cert)
  await raw.authenticate('SCRAM-SHA-1', 'alice', (await import('../harness.js')).PASSWORD)
  const features = await raw.open()
  const c = features.getChild('c', 'http://jabber.org/protocol/caps')
  assert.ok(c, `caps in ${features}`)
  assert.equal(c.attrs.hash, 'sha-1')
  assert.equal(c.attrs.node, 'urn:paranoim:bridge')
  assert.ok(features.getChild('csi', 'urn:xmpp:csi:0'), 'XEP-0352 stream feature')
  raw.close()
  // The ver is the XEP-0115 hash of exactly SERVER_INFO (checked against §5.2/§5.3 in caps-hash.test.ts).
  const { capsHash } = await import('../../../bridge/xmpp/modules/caps-hash.js')
  assert.equal(c.attrs.ver, capsHash(xml`${SERVER_INFO}`))
  const alice = await login(t.starttlsPort, 'alice', { resource: 'pc' })
  assert.equal(
    await exchange(
      alice,
      xml`
      <iq type='get' id='node1' to='paranoim.localhost'>
        <query xmlns='http://jabber.org/protocol/disco#info' node='urn:paranoim:bridge#${c.attrs.ver}'/>
      </iq>`,
    ),
    canonical(`
      <iq type='result' id='node1' from='paranoim.localhost' to='alice@paranoim.localhost/pc'>
        ${SERVER_INFO.replace('<query ', `<query node='urn:paranoim:bridge#${c.attrs.ver}' `)}
      </iq>`),
  )
  await alice.stop()
})

// XEP-0115 §5.2: what the Exodus client of the example answers, and its hash.
const EXODUS = xml`
  <query xmlns='http://jabber.org/protocol/disco#info'>
    <identity category='client' name='Exodus 0.9.1' type='pc'/>
    <feature var='http://jabber.org/protocol/caps'/>
    <feature var='http://jabber.org/protocol/disco#info'/>
    <feature var='http://jabber.org/protocol/disco#items'/>
    <feature var='http://jabber.org/protocol/muc'/>
  </query>`
const EXODUS_VER = 'QgayPKawpkPSDYmwT/WM94uAlu0='

async function withCaps(resource: string, ver: string, answer = EXODUS): Promise<[TestClient, Element[]]> {
  const client = await login(t.starttlsPort, 'alice', { resource })
  const asked = answerDiscoInfo(client, answer)
  await client.xmpp.send(xml`
    <presence>
      <c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='http://code.google.com/p/exodus' ver='${ver}'/>
    </presence>`)
  return [client, asked]
}

test("a client's caps are asked once per verified hash; a hash that does not match is asked again", async () => {
  const [first, firstAsked] = await withCaps('one', EXODUS_VER)
  await first.next((el) => el.name === 'presence' && el.attrs.from === first.jid)
  await nothing(first, () => false, 200)
  assert.deepEqual(firstAsked.map(canonical), [
    canonical(`
      <iq type='get' id='${firstAsked[0]?.attrs.id}' from='paranoim.localhost' to='alice@paranoim.localhost/one'>
        <query xmlns='http://jabber.org/protocol/disco#info' node='http://code.google.com/p/exodus#${EXODUS_VER}'/>
      </iq>`),
  ])
  const [second, secondAsked] = await withCaps('two', EXODUS_VER)
  await second.next((el) => el.name === 'presence' && el.attrs.from === second.jid)
  await nothing(second, () => false, 200)
  assert.equal(secondAsked.length, 0, 'a verified hash is known')
  // A client whose answer does not hash to its ver is not believed for anyone else.
  const lie = 'AAAAAAAAAAAAAAAAAAAAAAAAAAA='
  const [third, thirdAsked] = await withCaps('three', lie)
  const [fourth, fourthAsked] = await withCaps('four', lie)
  await nothing(fourth, () => false, 300)
  assert.equal(thirdAsked.length, 1)
  assert.equal(fourthAsked.length, 1)
  for (const c of [first, second, third, fourth]) await c.stop()
})

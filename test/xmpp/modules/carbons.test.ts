import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { Element } from 'ltx'
import { login, type TestClient, trustCertificate } from '../client.js'
import { startServer, type TestServer } from '../harness.js'
import { canonical, exchange, nothing, xml } from './stanzas.js'

// XEP-0280 message carbons (with XEP-0297 forwarding and the XEP-0334 no-copy hint).

let t: TestServer
before(async () => {
  t = await startServer({ accounts: ['alice', 'bob'] })
  trustCertificate(t.cert)
})
after(() => t.stop())

const A = 'alice@paranoim.localhost'
const B = 'bob@paranoim.localhost'

async function online(user: string, resource: string, priority = 0, carbons = false): Promise<TestClient> {
  const client = await login(t.starttlsPort, user, { resource })
  if (carbons) {
    assert.equal(
      await exchange(client, xml`<iq type='set' id='enable'><enable xmlns='urn:xmpp:carbons:2'/></iq>`),
      canonical(`<iq type='result' id='enable' from='${user}@paranoim.localhost' to='${client.jid}'/>`),
    )
  }
  await client.xmpp.send(xml`<presence><priority>${priority}</priority></presence>`)
  await client.next((el) => el.name === 'presence' && el.attrs.from === client.jid)
  return client
}

const isMessage = (el: Element) => el.name === 'message'
/** The archive's stanza-id is random: read it from what arrived, to write the exact expected stanza. */
const sid = (el: Element) =>
  (el.getChild('received', 'urn:xmpp:carbons:2') ?? el)
    .getChild('forwarded')
    ?.getChild('message')
    ?.getChild('stanza-id')?.attrs.id ?? el.getChild('stanza-id')?.attrs.id

test('a message to one resource is copied to the other resources that enabled carbons, as <received/>', async () => {
  const pc = await online('alice', 'pc', 5, true)
  const phone = await online('alice', 'phone', 0, true)
  const bob = await online('bob', 'laptop')
  await bob.xmpp.send(xml`<message to='${A}' type='chat' id='m1'><body>hi</body></message>`)
  const direct = await pc.next(isMessage)
  const copy = await phone.next(isMessage)
  assert.equal(
    canonical(direct),
    canonical(`
      <message to='${A}' type='chat' id='m1' from='${B}/laptop'>
        <body>hi</body>
        <stanza-id xmlns='urn:xmpp:sid:0' id='${sid(direct)}' by='${A}'/>
      </message>`),
  )
  assert.equal(
    canonical(copy),
    canonical(`
      <message from='${A}' to='${A}/phone' type='chat'>
        <received xmlns='urn:xmpp:carbons:2'>
          <forwarded xmlns='urn:xmpp:forward:0'>
            <message xmlns='jabber:client' to='${A}' type='chat' id='m1' from='${B}/laptop'>
              <body>hi</body>
              <stanza-id xmlns='urn:xmpp:sid:0' id='${sid(direct)}' by='${A}'/>
            </message>
          </forwarded>
        </received>
      </message>`),
  )
  for (const c of [pc, phone, bob]) await c.stop()
})

test('what one resource sends is copied to the others as <sent/>', async () => {
  const pc = await online('alice', 'pc', 0, true)
  const phone = await online('alice', 'phone', 0, true)
  const bob = await online('bob', 'laptop')
  await pc.xmpp.send(xml`<message to='${B}/laptop' type='chat' id='m2'><body>from pc</body></message>`)
  assert.equal(
    canonical(await phone.next(isMessage)),
    canonical(`
      <message from='${A}' to='${A}/phone' type='chat'>
        <sent xmlns='urn:xmpp:carbons:2'>
          <forwarded xmlns='urn:xmpp:forward:0'>
            <message xmlns='jabber:client' to='${B}/laptop' type='chat' id='m2' from='${A}/pc'>
              <body>from pc</body>
            </message>
          </forwarded>
        </sent>
      </message>`),
  )
  assert.equal((await bob.next(isMessage)).getChildText('body'), 'from pc')
  assert.ok(await nothing(pc, isMessage), 'the sender gets no copy of its own message')
  for (const c of [pc, phone, bob]) await c.stop()
})

test('<private/>, <no-copy/>, headlines and resources without carbons get no copies; disable stops them', async () => {
  const pc = await online('alice', 'pc', 0, true)
  const phone = await online('alice', 'phone', 0, true)
  const tablet = await online('alice', 'tablet', 0, false)
  const bob = await online('bob', 'laptop')
  await bob.xmpp.send(xml`
    <message to='${A}/pc' type='chat' id='p1'><body>secret</body><private xmlns='urn:xmpp:carbons:2'/></message>`)
  await bob.xmpp.send(xml`
    <message to='${A}/pc' type='chat' id='p2'><body>once</body><no-copy xmlns='urn:xmpp:hints'/></message>`)
  await bob.xmpp.send(xml`<message to='${A}/pc' type='headline' id='p3'><body>news</body></message>`)
  for (const id of ['p1', 'p2', 'p3']) await pc.next((el) => el.attrs.id === id)
  assert.ok(await nothing(phone, isMessage), 'no copies of private, no-copy or headline messages')
  assert.equal(
    await exchange(phone, xml`<iq type='set' id='off'><disable xmlns='urn:xmpp:carbons:2'/></iq>`),
    canonical(`<iq type='result' id='off' from='${A}' to='${A}/phone'/>`),
  )
  await bob.xmpp.send(xml`<message to='${A}/pc' type='chat' id='p4'><body>after</body></message>`)
  await pc.next((el) => el.attrs.id === 'p4')
  assert.ok(await nothing(phone, isMessage), 'carbons disabled')
  assert.ok(await nothing(tablet, isMessage, 0), 'never enabled')
  for (const c of [pc, phone, tablet, bob]) await c.stop()
})

test("carbons are the account's own business: enabling them for another account is forbidden", async () => {
  const bob = await online('bob', 'laptop')
  assert.equal(
    await exchange(bob, xml`<iq type='set' id='x1' to='${A}'><enable xmlns='urn:xmpp:carbons:2'/></iq>`),
    canonical(`
      <iq type='error' id='x1' from='${A}' to='${B}/laptop'>
        <error type='auth'>
          <forbidden xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>
          <text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas' xml:lang='en'>carbons are set by the account itself</text>
        </error>
      </iq>`),
  )
  await bob.stop()
})

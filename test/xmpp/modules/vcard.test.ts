import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { after, before, test } from 'node:test'
import { login, type TestClient, trustCertificate } from '../client.js'
import { startServer, type TestServer } from '../harness.js'
import { befriend } from './contacts.js'
import { canonical, exchange, nothing, xml } from './stanzas.js'

// XEP-0054 vcard-temp and XEP-0153 vCard-based avatars.

let t: TestServer
before(async () => {
  t = await startServer({ accounts: ['alice', 'bob'] })
  trustCertificate(t.cert)
})
after(() => t.stop())

const A = 'alice@paranoim.localhost'
const B = 'bob@paranoim.localhost'
const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex')
const PHOTO_SHA1 = createHash('sha1').update(PNG).digest('hex')

const CARD = `
  <vCard xmlns='vcard-temp'>
    <FN>Alice Liddell</FN>
    <PHOTO><TYPE>image/png</TYPE><BINVAL>${PNG.toString('base64')}</BINVAL></PHOTO>
  </vCard>`

const connect = (user: string, resource: string): Promise<TestClient> =>
  login(t.starttlsPort, user, { resource })

test('an account sets its vCard; it and others read it back; without one, an empty vCard', async () => {
  const alice = await connect('alice', 'pc')
  const bob = await connect('bob', 'laptop')
  assert.equal(
    await exchange(bob, xml`<iq type='get' id='v0' to='${A}'><vCard xmlns='vcard-temp'/></iq>`),
    canonical(`<iq type='result' id='v0' from='${A}' to='${B}/laptop'><vCard xmlns='vcard-temp'/></iq>`),
  )
  assert.equal(
    await exchange(alice, xml`<iq type='set' id='v1'>${CARD}</iq>`),
    canonical(`<iq type='result' id='v1' from='${A}' to='${A}/pc'/>`),
  )
  assert.equal(
    await exchange(alice, xml`<iq type='get' id='v2'><vCard xmlns='vcard-temp'/></iq>`),
    canonical(`<iq type='result' id='v2' from='${A}' to='${A}/pc'>${CARD}</iq>`),
  )
  assert.equal(
    await exchange(bob, xml`<iq type='get' id='v3' to='${A}'><vCard xmlns='vcard-temp'/></iq>`),
    canonical(`<iq type='result' id='v3' from='${A}' to='${B}/laptop'>${CARD}</iq>`),
  )
  for (const c of [alice, bob]) await c.stop()
})

test("nobody else may set an account's vCard", async () => {
  const bob = await connect('bob', 'laptop')
  assert.equal(
    await exchange(
      bob,
      xml`<iq type='set' id='v4' to='${A}'><vCard xmlns='vcard-temp'><FN>Mallory</FN></vCard></iq>`,
    ),
    canonical(`
      <iq type='error' id='v4' from='${A}' to='${B}/laptop'>
        <error type='auth'>
          <forbidden xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>
          <text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas' xml:lang='en'>only the account itself may change its vCard</text>
        </error>
      </iq>`),
  )
  await bob.stop()
})

test("presence carries the photo's SHA-1 (XEP-0153), whatever hash the client claimed", async () => {
  const alice = await connect('alice', 'pc')
  await exchange(alice, xml`<iq type='set' id='v5'>${CARD}</iq>`)
  await alice.xmpp.send(xml`
    <presence><x xmlns='vcard-temp:x:update'><photo>0000000000000000000000000000000000000000</photo></x></presence>`)
  assert.equal(
    canonical(await alice.next((el) => el.name === 'presence')),
    canonical(`
      <presence from='${A}/pc' to='${A}/pc'>
        <x xmlns='vcard-temp:x:update'><photo>${PHOTO_SHA1}</photo></x>
      </presence>`),
  )
  // A vCard without a photo: an empty <photo/> says "no avatar", at once (XEP-0153 §4.1) and from then on.
  await exchange(alice, xml`<iq type='set' id='v6'><vCard xmlns='vcard-temp'><FN>Alice</FN></vCard></iq>`)
  assert.equal(
    canonical(await alice.next((el) => el.name === 'presence')),
    canonical(`<presence from='${A}/pc' to='${A}/pc'><x xmlns='vcard-temp:x:update'><photo/></x></presence>`),
  )
  await alice.xmpp.send(xml`<presence><show>away</show></presence>`)
  assert.equal(
    canonical(await alice.next((el) => el.name === 'presence')),
    canonical(`
      <presence from='${A}/pc' to='${A}/pc'>
        <show>away</show><x xmlns='vcard-temp:x:update'><photo/></x>
      </presence>`),
  )
  await alice.stop()
})

test('a new photo goes out at once in the presence of every online resource (XEP-0153 §4.1)', async () => {
  const alice = await connect('alice', 'desk')
  const bob = await connect('bob', 'laptop')
  for (const c of [alice, bob]) {
    await c.xmpp.send(xml`<presence><show>chat</show></presence>`)
    await c.next((el) => el.name === 'presence' && el.attrs.from === c.jid)
  }
  await befriend(alice, bob)
  await exchange(alice, xml`<iq type='set' id='v7'>${CARD}</iq>`)
  for (const [client, to] of [
    [bob, B],
    [alice, `${A}/desk`],
  ] as const) {
    assert.equal(
      canonical(await client.next((el) => el.name === 'presence' && el.attrs.from === `${A}/desk`)),
      canonical(`
        <presence from='${A}/desk' to='${to}'>
          <show>chat</show><x xmlns='vcard-temp:x:update'><photo>${PHOTO_SHA1}</photo></x>
        </presence>`),
    )
  }
  // The same photo with another name: nothing to tell.
  await exchange(alice, xml`<iq type='set' id='v8'>${CARD.replace('Alice Liddell', 'Alice L.')}</iq>`)
  assert.ok(await nothing(bob, (el) => el.name === 'presence'))
  for (const c of [alice, bob]) await c.stop()
})

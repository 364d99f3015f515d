import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { login, type TestClient, trustCertificate } from '../client.js'
import { startServer, type TestServer } from '../harness.js'
import { canonical, iq, nothing, xml } from './stanzas.js'

// XEP-0352 client state indication.

let t: TestServer
before(async () => {
  t = await startServer({ accounts: ['alice', 'bob'] })
  trustCertificate(t.cert)
})
after(() => t.stop())

const A = 'alice@paranoim.localhost'

/** Goes inactive, and waits until the server has seen it (a ping after it is answered in order). */
async function inactive(client: TestClient): Promise<void> {
  await client.xmpp.send(xml`<inactive xmlns='urn:xmpp:csi:0'/>`)
  await iq(client, xml`<iq type='get' id='after-inactive'><ping xmlns='urn:xmpp:ping'/></iq>`)
}

async function online(user: string, resource: string): Promise<TestClient> {
  const client = await login(t.starttlsPort, user, { resource })
  await client.xmpp.send(xml`<presence/>`)
  await client.next((el) => el.name === 'presence' && el.attrs.from === client.jid)
  client.stanzas.length = 0 // the bind result and such: only what comes next matters
  return client
}

test('an inactive client gets presence updates (latest only) and chat states only with the next message', async () => {
  const phone = await online('alice', 'phone')
  const pc = await online('alice', 'pc')
  await phone.next((el) => el.name === 'presence' && el.attrs.from === pc.jid)
  const bob = await online('bob', 'laptop')
  await inactive(phone)
  await pc.xmpp.send(xml`<presence><show>away</show></presence>`)
  await pc.xmpp.send(xml`<presence><show>dnd</show></presence>`)
  // The server handles pc's stream in order: once the ping is answered, both presences were routed
  // (else, on a loaded machine, bob's message may overtake them).
  await iq(pc, xml`<iq type='get' id='after-presence'><ping xmlns='urn:xmpp:ping'/></iq>`)
  await bob.xmpp.send(xml`
    <message to='${A}/phone' type='chat' id='s1'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>`)
  assert.ok(await nothing(phone, () => true, 400), 'presence and chat states are held back')
  await bob.xmpp.send(xml`<message to='${A}/phone' type='chat' id='b1'><body>wake up</body></message>`)
  await phone.next((el) => el.attrs.id === 'b1')
  // What arrived, in order: the held stanzas (only the latest presence of pc) before the message.
  assert.deepEqual(
    [...phone.stanzas.splice(0).map(canonical), 'b1'],
    [
      canonical(`<presence from='${A}/pc' to='${A}/phone'><show>dnd</show></presence>`),
      canonical(`
        <message to='${A}/phone' type='chat' id='s1' from='bob@paranoim.localhost/laptop'>
          <composing xmlns='http://jabber.org/protocol/chatstates'/>
        </message>`),
      'b1',
    ],
  )
  for (const c of [phone, pc, bob]) await c.stop()
})

test('<active/> flushes what was held; an active client gets everything at once', async () => {
  const phone = await online('alice', 'phone')
  const pc = await online('alice', 'pc')
  await phone.next((el) => el.name === 'presence' && el.attrs.from === pc.jid)
  await inactive(phone)
  await pc.xmpp.send(xml`<presence><show>xa</show></presence>`)
  assert.ok(await nothing(phone, () => true, 300))
  await phone.xmpp.send(xml`<active xmlns='urn:xmpp:csi:0'/>`)
  assert.equal(
    canonical(await phone.next((el) => el.name === 'presence')),
    canonical(`<presence from='${A}/pc' to='${A}/phone'><show>xa</show></presence>`),
  )
  await pc.xmpp.send(xml`<presence><show>chat</show></presence>`)
  assert.equal((await phone.next((el) => el.name === 'presence', 1000)).getChildText('show'), 'chat')
  for (const c of [phone, pc]) await c.stop()
})

import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { Element } from 'ltx'
import { trustCertificate } from '../client.js'
import { startServer, type TestServer } from '../harness.js'
import { befriend, online } from './contacts.js'
import { canonical, exchange, nothing, xml } from './stanzas.js'

// XEP-0191 blocking command.

let t: TestServer
before(async () => {
  t = await startServer({ accounts: ['alice', 'bob'] })
  trustCertificate(t.cert)
})
after(() => t.stop())

const A = 'alice@paranoim.localhost'
const B = 'bob@paranoim.localhost'
const isPush = (el: Element) => el.name === 'iq' && el.attrs.type === 'set'

test('block: pushes to interested resources, presence cut both ways, stanzas refused both ways; unblock', async () => {
  const pc = await online(t.starttlsPort, 'alice', 'pc')
  const phone = await online(t.starttlsPort, 'alice', 'phone')
  const bob = await online(t.starttlsPort, 'bob', 'laptop')
  await befriend(pc, bob)
  phone.stanzas.length = 0
  for (const client of [pc, phone]) {
    assert.equal(
      await exchange(client, xml`<iq type='get' id='bl1'><blocklist xmlns='urn:xmpp:blocking'/></iq>`),
      canonical(
        `<iq type='result' id='bl1' from='${A}' to='${client.jid}'><blocklist xmlns='urn:xmpp:blocking'/></iq>`,
      ),
    )
  }
  assert.equal(
    await exchange(
      pc,
      xml`<iq type='set' id='bl2'><block xmlns='urn:xmpp:blocking'><item jid='${B}'/></block></iq>`,
    ),
    canonical(`<iq type='result' id='bl2' from='${A}' to='${A}/pc'/>`),
  )
  for (const client of [pc, phone]) {
    const push = await client.next(isPush)
    assert.equal(
      canonical(push),
      canonical(`
        <iq type='set' id='${push.attrs.id}' from='${A}' to='${client.jid}'>
          <block xmlns='urn:xmpp:blocking'><item jid='${B}'/></block>
        </iq>`),
    )
  }
  // §3.3: bob sees alice go offline; alice's clients see bob go offline.
  for (const resource of ['pc', 'phone']) {
    await bob.next(
      (el) =>
        el.name === 'presence' && el.attrs.type === 'unavailable' && el.attrs.from === `${A}/${resource}`,
    )
  }
  assert.equal(
    canonical(await pc.next((el) => el.name === 'presence' && el.attrs.type === 'unavailable')),
    canonical(`<presence type='unavailable' from='${B}' to='${A}/pc'/>`),
  )
  // §3.5: bob's message bounces; §3.6: alice's is refused.
  await bob.xmpp.send(xml`<message to='${A}' type='chat' id='m1'><body>hello?</body></message>`)
  assert.equal(
    canonical(await bob.next((el) => el.attrs.id === 'm1')),
    canonical(`
      <message type='error' id='m1' from='${A}' to='${B}/laptop'>
        <error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error>
      </message>`),
  )
  await pc.xmpp.send(xml`<message to='${B}' type='chat' id='m2'><body>go away</body></message>`)
  assert.equal(
    canonical(await pc.next((el) => el.attrs.id === 'm2')),
    canonical(`
      <message type='error' id='m2' from='${B}' to='${A}/pc'>
        <error type='modify'>
          <not-acceptable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>
          <text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas' xml:lang='en'>you have blocked ${B}</text>
          <blocked xmlns='urn:xmpp:blocking:errors'/>
        </error>
      </message>`),
  )
  // Presence changes of alice do not reach bob any more.
  await pc.xmpp.send(xml`<presence><show>away</show></presence>`)
  assert.ok(
    await nothing(bob, (el) => el.name === 'presence' && el.attrs.from === `${A}/pc` && !el.attrs.type),
  )
  assert.ok(
    (
      await exchange(phone, xml`<iq type='get' id='bl3'><blocklist xmlns='urn:xmpp:blocking'/></iq>`)
    ).includes(`<item jid="${B}"/>`),
  )
  assert.equal(
    await exchange(
      phone,
      xml`<iq type='set' id='bl4'><unblock xmlns='urn:xmpp:blocking'><item jid='${B}'/></unblock></iq>`,
    ),
    canonical(`<iq type='result' id='bl4' from='${A}' to='${A}/phone'/>`),
  )
  const push = await pc.next((el) => isPush(el) && el.getChild('unblock') !== undefined)
  assert.equal(
    canonical(push.getChild('unblock')!),
    canonical(`<unblock xmlns='urn:xmpp:blocking'><item jid='${B}'/></unblock>`),
  )
  // §3.4: presence flows again both ways, as the subscriptions say.
  assert.equal(
    canonical(await bob.next((el) => el.name === 'presence' && el.attrs.from === `${A}/pc`)),
    canonical(`<presence from='${A}/pc' to='${B}'><show>away</show></presence>`),
  )
  await pc.next((el) => el.name === 'presence' && el.attrs.from === `${B}/laptop` && !el.attrs.type)
  await bob.xmpp.send(xml`<message to='${A}/pc' type='chat' id='m3'><body>again</body></message>`)
  assert.equal((await pc.next((el) => el.attrs.id === 'm3')).getChildText('body'), 'again')
  for (const c of [pc, phone, bob]) await c.stop()
})

test('a malformed JID is jid-malformed; blocking for another account is forbidden', async () => {
  const alice = await online(t.starttlsPort, 'alice', 'pc')
  const bad = await exchange(
    alice,
    xml`<iq type='set' id='bad'><block xmlns='urn:xmpp:blocking'><item jid='a@b@c'/></block></iq>`,
  )
  assert.ok(bad.includes('<jid-malformed '), bad)
  assert.ok(
    (
      await exchange(
        alice,
        xml`<iq type='get' id='other' to='${B}'><blocklist xmlns='urn:xmpp:blocking'/></iq>`,
      )
    ).includes('<forbidden '),
  )
  await alice.stop()
})

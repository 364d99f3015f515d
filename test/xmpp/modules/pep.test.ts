import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { Element } from 'ltx'
import { trustCertificate } from '../client.js'
import { startServer, type TestServer } from '../harness.js'
import { befriend, online } from './contacts.js'
import { canonical, exchange, nothing, xml } from './stanzas.js'

// XEP-0163 PEP with XEP-0223 persistence, and XEP-0402 bookmarks on it.

let t: TestServer
before(async () => {
  t = await startServer({ accounts: ['alice', 'bob', 'carol'] })
  trustCertificate(t.cert)
})
after(() => t.stop())

const A = 'alice@paranoim.localhost'
const B = 'bob@paranoim.localhost'
const NICK = 'http://jabber.org/protocol/nick'
const BOOKMARKS = 'urn:xmpp:bookmarks:1'
const isEvent = (el: Element) => el.name === 'message' && el.attrs.type === 'headline'

const publishNick = (id: string, nick: string) => xml`
  <iq type='set' id='${id}'>
    <pubsub xmlns='http://jabber.org/protocol/pubsub'>
      <publish node='${NICK}'><item id='current'><nick xmlns='${NICK}'>${nick}</nick></item></publish>
    </pubsub>
  </iq>`

test('a publish notifies own resources and presence subscribers that want the node; others see nothing', async () => {
  const alice = await online(t.starttlsPort, 'alice', 'pc', [`${NICK}+notify`])
  const bob = await online(t.starttlsPort, 'bob', 'laptop', [`${NICK}+notify`])
  const carol = await online(t.starttlsPort, 'carol', 'phone', [`${NICK}+notify`])
  const bobOld = await online(t.starttlsPort, 'bob', 'old') // no +notify in its caps
  await befriend(alice, bob)
  assert.equal(
    await exchange(alice, publishNick('pub1', 'Alice')),
    canonical(`
      <iq type='result' id='pub1' from='${A}' to='${A}/pc'>
        <pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='${NICK}'><item id='current'/></publish></pubsub>
      </iq>`),
  )
  for (const [client, to] of [
    [alice, `${A}/pc`],
    [bob, `${B}/laptop`],
  ] as const) {
    const event = await client.next(isEvent)
    assert.equal(
      canonical(event),
      canonical(`
        <message type='headline' id='${event.attrs.id}' from='${A}' to='${to}'>
          <event xmlns='http://jabber.org/protocol/pubsub#event'>
            <items node='${NICK}'><item id='current'><nick xmlns='${NICK}'>Alice</nick></item></items>
          </event>
        </message>`),
    )
  }
  assert.ok(await nothing(carol, isEvent), 'carol is not subscribed to alice')
  assert.ok(await nothing(bobOld, isEvent, 0), 'a client without +notify gets no events')
  // Items are retrievable by subscribers, not by strangers (access model "presence").
  const get = (id: string) =>
    xml`<iq type='get' id='${id}' to='${A}'><pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='${NICK}'/></pubsub></iq>`
  assert.equal(
    await exchange(bob, get('get1')),
    canonical(`
      <iq type='result' id='get1' from='${A}' to='${B}/laptop'>
        <pubsub xmlns='http://jabber.org/protocol/pubsub'>
          <items node='${NICK}'><item id='current'><nick xmlns='${NICK}'>Alice</nick></item></items>
        </pubsub>
      </iq>`),
  )
  assert.equal(
    await exchange(carol, get('get2')),
    canonical(`
      <iq type='error' id='get2' from='${A}' to='carol@paranoim.localhost/phone'>
        <error type='auth'>
          <not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>
          <presence-subscription-required xmlns='http://jabber.org/protocol/pubsub#errors'/>
        </error>
      </iq>`),
  )
  for (const c of [alice, bob, carol, bobOld]) await c.stop()
})

test('a subscriber coming online gets the last item; a node keeps one item by default', async () => {
  const alice = await online(t.starttlsPort, 'alice', 'pc')
  await exchange(alice, publishNick('pub2', 'Alice II'))
  await exchange(alice, publishNick('pub3', 'Alice III'))
  const bob = await online(t.starttlsPort, 'bob', 'tablet', [`${NICK}+notify`])
  const event = await bob.next(isEvent)
  assert.equal(
    canonical(event),
    canonical(`
      <message type='headline' id='${event.attrs.id}' from='${A}' to='${B}/tablet'>
        <event xmlns='http://jabber.org/protocol/pubsub#event'>
          <items node='${NICK}'><item id='current'><nick xmlns='${NICK}'>Alice III</nick></item></items>
        </event>
      </message>`),
  )
  for (const c of [alice, bob]) await c.stop()
})

test('bookmarks (XEP-0402): publish-options whitelist, many items, owner-only; retract notifies; delete', async () => {
  const alice = await online(t.starttlsPort, 'alice', 'pc', [`${BOOKMARKS}+notify`])
  const bob = await online(t.starttlsPort, 'bob', 'laptop', [`${BOOKMARKS}+notify`])
  const options = `
    <publish-options>
      <x xmlns='jabber:x:data' type='submit'>
        <field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#publish-options</value></field>
        <field var='pubsub#persist_items'><value>true</value></field>
        <field var='pubsub#max_items'><value>max</value></field>
        <field var='pubsub#send_last_published_item'><value>never</value></field>
        <field var='pubsub#access_model'><value>whitelist</value></field>
      </x>
    </publish-options>`
  for (const room of ['council', 'garden']) {
    const reply = await exchange(
      alice,
      xml`
      <iq type='set' id='bm-${room}'>
        <pubsub xmlns='http://jabber.org/protocol/pubsub'>
          <publish node='${BOOKMARKS}'>
            <item id='${room}@rooms.example'>
              <conference xmlns='urn:xmpp:bookmarks:1' name='${room}' autojoin='true'><nick>alice</nick></conference>
            </item>
          </publish>
          ${options}
        </pubsub>
      </iq>`,
    )
    assert.ok(reply.includes(`<item id="${room}@rooms.example"/>`), reply)
    await alice.next(isEvent)
  }
  const all = await exchange(
    alice,
    xml`
    <iq type='get' id='bm-get'><pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='${BOOKMARKS}'/></pubsub></iq>`,
  )
  assert.equal(
    all,
    canonical(`
      <iq type='result' id='bm-get' from='${A}' to='${A}/pc'>
        <pubsub xmlns='http://jabber.org/protocol/pubsub'>
          <items node='${BOOKMARKS}'>
            <item id='council@rooms.example'>
              <conference xmlns='urn:xmpp:bookmarks:1' name='council' autojoin='true'><nick>alice</nick></conference>
            </item>
            <item id='garden@rooms.example'>
              <conference xmlns='urn:xmpp:bookmarks:1' name='garden' autojoin='true'><nick>alice</nick></conference>
            </item>
          </items>
        </pubsub>
      </iq>`),
  )
  assert.ok(await nothing(bob, isEvent, 0), 'whitelist: no events to contacts')
  assert.ok(
    (
      await exchange(
        bob,
        xml`
        <iq type='get' id='bm-bob' to='${A}'>
          <pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='${BOOKMARKS}'/></pubsub>
        </iq>`,
      )
    ).includes('<not-allowed '),
  )
  assert.equal(
    await exchange(
      alice,
      xml`
      <iq type='set' id='bm-retract'>
        <pubsub xmlns='http://jabber.org/protocol/pubsub'>
          <retract node='${BOOKMARKS}' notify='true'><item id='garden@rooms.example'/></retract>
        </pubsub>
      </iq>`,
    ),
    canonical(`<iq type='result' id='bm-retract' from='${A}' to='${A}/pc'/>`),
  )
  const retracted = await alice.next(isEvent)
  assert.equal(
    canonical(retracted.getChild('event')!),
    canonical(`
      <event xmlns='http://jabber.org/protocol/pubsub#event'>
        <items node='${BOOKMARKS}'><retract id='garden@rooms.example'/></items>
      </event>`),
  )
  assert.equal(
    await exchange(
      alice,
      xml`
      <iq type='set' id='bm-delete'>
        <pubsub xmlns='http://jabber.org/protocol/pubsub#owner'><delete node='${BOOKMARKS}'/></pubsub>
      </iq>`,
    ),
    canonical(`<iq type='result' id='bm-delete' from='${A}' to='${A}/pc'/>`),
  )
  assert.ok(
    (
      await exchange(
        alice,
        xml`
        <iq type='get' id='bm-gone'><pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='${BOOKMARKS}'/></pubsub></iq>`,
      )
    ).includes('<item-not-found '),
  )
  for (const c of [alice, bob]) await c.stop()
})

test('publish-options this service cannot honour fail the precondition; publishing elsewhere is forbidden', async () => {
  const alice = await online(t.starttlsPort, 'alice', 'pc')
  assert.equal(
    await exchange(
      alice,
      xml`
      <iq type='set' id='po1'>
        <pubsub xmlns='http://jabber.org/protocol/pubsub'>
          <publish node='urn:example:x'><item><x xmlns='urn:example:x'/></item></publish>
          <publish-options>
            <x xmlns='jabber:x:data' type='submit'>
              <field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#publish-options</value></field>
              <field var='pubsub#access_model'><value>authorize</value></field>
            </x>
          </publish-options>
        </pubsub>
      </iq>`,
    ),
    canonical(`
      <iq type='error' id='po1' from='${A}' to='${A}/pc'>
        <error type='cancel'>
          <conflict xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>
          <text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas' xml:lang='en'>pubsub#access_model=authorize</text>
          <precondition-not-met xmlns='http://jabber.org/protocol/pubsub#errors'/>
        </error>
      </iq>`),
  )
  const reply = await exchange(
    alice,
    xml`
    <iq type='set' id='po2' to='${B}'>
      <pubsub xmlns='http://jabber.org/protocol/pubsub'>
        <publish node='urn:example:x'><item><x xmlns='urn:example:x'/></item></publish>
      </pubsub>
    </iq>`,
  )
  assert.ok(reply.includes('<forbidden '), reply)
  await alice.stop()
})

test("a contact newly subscribed gets the account's last items at once", async () => {
  const alice = await online(t.starttlsPort, 'alice', 'pc')
  await exchange(alice, publishNick('pub4', 'Alice IV'))
  const carol = await online(t.starttlsPort, 'carol', 'tablet', [`${NICK}+notify`])
  assert.ok(await nothing(carol, isEvent, 200), 'not subscribed yet')
  // Alice pre-approves, carol subscribes: carol now receives alice's presence, and her PEP events.
  await alice.xmpp.send(xml`<presence type='subscribed' to='carol@paranoim.localhost'/>`)
  await carol.xmpp.send(xml`<presence type='subscribe' to='${A}'/>`)
  const event = await carol.next(isEvent)
  assert.equal(
    canonical(event),
    canonical(`
      <message type='headline' id='${event.attrs.id}' from='${A}' to='carol@paranoim.localhost/tablet'>
        <event xmlns='http://jabber.org/protocol/pubsub#event'>
          <items node='${NICK}'><item id='current'><nick xmlns='${NICK}'>Alice IV</nick></item></items>
        </event>
      </message>`),
  )
  for (const c of [alice, carol]) await c.stop()
})

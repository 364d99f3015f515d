import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { login, trustCertificate } from '../client.js'
import { startServer, type TestServer } from '../harness.js'
import { canonical, exchange, xml } from './stanzas.js'

// XEP-0049 private XML storage (and XEP-0048 bookmarks kept in it, as older clients do).

let t: TestServer
before(async () => {
  t = await startServer({ accounts: ['alice', 'bob'] })
  trustCertificate(t.cert)
})
after(() => t.stop())

const A = 'alice@paranoim.localhost'
const BOOKMARKS = `
  <storage xmlns='storage:bookmarks'>
    <conference name='Council' autojoin='true' jid='council@rooms.example'><nick>alice</nick></conference>
  </storage>`

test('stored fragments come back by name and namespace; unknown ones come back empty', async () => {
  const alice = await login(t.starttlsPort, 'alice', { resource: 'pc' })
  assert.equal(
    await exchange(
      alice,
      xml`<iq type='set' id='p1'><query xmlns='jabber:iq:private'>${BOOKMARKS}</query></iq>`,
    ),
    canonical(`<iq type='result' id='p1' from='${A}' to='${A}/pc'/>`),
  )
  assert.equal(
    await exchange(
      alice,
      xml`
      <iq type='get' id='p2'><query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'/></query></iq>`,
    ),
    canonical(
      `<iq type='result' id='p2' from='${A}' to='${A}/pc'><query xmlns='jabber:iq:private'>${BOOKMARKS}</query></iq>`,
    ),
  )
  assert.equal(
    await exchange(
      alice,
      xml`
      <iq type='get' id='p3'><query xmlns='jabber:iq:private'><prefs xmlns='urn:example:prefs'/></query></iq>`,
    ),
    canonical(`
      <iq type='result' id='p3' from='${A}' to='${A}/pc'>
        <query xmlns='jabber:iq:private'><prefs xmlns='urn:example:prefs'/></query>
      </iq>`),
  )
  await alice.stop()
  // Persistent: a new session finds them again.
  const again = await login(t.starttlsPort, 'alice', { resource: 'phone' })
  const reply = await exchange(
    again,
    xml`
    <iq type='get' id='p4'><query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'/></query></iq>`,
  )
  assert.ok(reply.includes('council@rooms.example'), reply)
  await again.stop()
})

test("reserved namespaces are not-acceptable; another account's storage is forbidden", async () => {
  const alice = await login(t.starttlsPort, 'alice', { resource: 'pc' })
  assert.equal(
    await exchange(
      alice,
      xml`
      <iq type='set' id='p5'><query xmlns='jabber:iq:private'><iq xmlns='jabber:client'/></query></iq>`,
    ),
    canonical(`
      <iq type='error' id='p5' from='${A}' to='${A}/pc'>
        <error type='modify'>
          <not-acceptable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>
          <text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas' xml:lang='en'>&lt;iq&gt; needs a namespace of its own</text>
        </error>
      </iq>`),
  )
  assert.equal(
    await exchange(
      alice,
      xml`
      <iq type='get' id='p6' to='bob@paranoim.localhost'>
        <query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'/></query>
      </iq>`,
    ),
    canonical(`
      <iq type='error' id='p6' from='bob@paranoim.localhost' to='${A}/pc'>
        <error type='auth'>
          <forbidden xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>
          <text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas' xml:lang='en'>private storage belongs to the account itself</text>
        </error>
      </iq>`),
  )
  await alice.stop()
})

test('an account stores at most 100 fragments; rewriting one is always allowed', async () => {
  const bob = await login(t.starttlsPort, 'bob', { resource: 'pc' })
  const set = (i: number) =>
    exchange(
      bob,
      xml`<iq type='set' id='f${i}'><query xmlns='jabber:iq:private'><f xmlns='urn:example:${i}'/></query></iq>`,
    )
  for (let i = 1; i <= 100; i++) assert.ok((await set(i)).includes('type="result"'), `fragment ${i}`)
  assert.equal(
    await set(101),
    canonical(`
      <iq type='error' id='f101' from='bob@paranoim.localhost' to='bob@paranoim.localhost/pc'>
        <error type='wait'>
          <resource-constraint xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/>
          <text xmlns='urn:ietf:params:xml:ns:xmpp-stanzas' xml:lang='en'>at most 100 fragments per account</text>
        </error>
      </iq>`),
  )
  assert.ok((await set(7)).includes('type="result"'))
  await bob.stop()
})

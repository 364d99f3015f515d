import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { Element } from 'ltx'
import { z } from 'zod'
import { jsonCodec } from '../../../bridge/store/index.js'
import { archiveModule, idAt } from '../../../bridge/xmpp/modules/archive.js'
import { trustCertificate } from '../client.js'
import { startServer, type TestServer } from '../harness.js'
import { online } from './contacts.js'
import { canonical, exchange, iq, xml } from './stanzas.js'

// XEP-0313 message archive management (with XEP-0059 paging and XEP-0359 stanza ids).

let t: TestServer
before(async () => {
  t = await startServer({ accounts: ['alice', 'bob', 'carol'] })
  trustCertificate(t.cert)
})
after(() => t.stop())

const A = 'alice@paranoim.localhost'
const B = 'bob@paranoim.localhost'
const C = 'carol@paranoim.localhost'

const chat = (to: string, id: string, body: string) =>
  xml`<message to='${to}' type='chat' id='${id}'><body>${body}</body></message>`

/** The archived message inside a result, in the exact form the server sends it, with its id and stamp read back. */
function expectedResult(got: Element, queryid: string, inner: string): string {
  const result = got.getChild('result', 'urn:xmpp:mam:2')
  const stamp = result?.getChild('forwarded')?.getChild('delay')?.attrs.stamp
  return canonical(`
    <message to='${A}/pc' from='${A}'>
      <result xmlns='urn:xmpp:mam:2' queryid='${queryid}' id='${result?.attrs.id}'>
        <forwarded xmlns='urn:xmpp:forward:0'>
          <delay xmlns='urn:xmpp:delay' from='${A}' stamp='${stamp}'/>
          ${inner}
        </forwarded>
      </result>
    </message>`)
}

const isResult = (queryid: string) => (el: Element) =>
  el.name === 'message' && el.getChild('result', 'urn:xmpp:mam:2')?.attrs.queryid === queryid

const query = (id: string, form = '', set = '') => xml`
  <iq type='set' id='${id}'>
    <query xmlns='urn:xmpp:mam:2' queryid='${id}'>
      ${form ? `<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>urn:xmpp:mam:2</value></field>${form}</x>` : ''}
      ${set ? `<set xmlns='http://jabber.org/protocol/rsm'>${set}</set>` : ''}
    </query>
  </iq>`

test('messages to and from the account are archived with a stanza-id and come back in order', async () => {
  const alice = await online(t.starttlsPort, 'alice', 'pc')
  const bob = await online(t.starttlsPort, 'bob', 'laptop')
  const carol = await online(t.starttlsPort, 'carol', 'phone')
  await bob.xmpp.send(chat(A, 'b1', 'one'))
  const delivered = await alice.next((el) => el.attrs.id === 'b1')
  const stanzaId = delivered.getChild('stanza-id', 'urn:xmpp:sid:0')
  assert.equal(stanzaId?.attrs.by, A)
  await alice.xmpp.send(chat(`${B}/laptop`, 'a1', 'two'))
  await bob.next((el) => el.attrs.id === 'a1')
  // Not archived: chat states alone, and a message asking not to be stored (XEP-0334).
  await bob.xmpp.send(xml`
    <message to='${A}' type='chat' id='b2'><active xmlns='http://jabber.org/protocol/chatstates'/></message>`)
  await bob.xmpp.send(xml`
    <message to='${A}' type='chat' id='b3'><body>ephemeral</body><no-store xmlns='urn:xmpp:hints'/></message>`)
  await carol.xmpp.send(chat(A, 'c1', 'three'))
  await alice.next((el) => el.attrs.id === 'c1')

  const fin = await iq(alice, query('q1'))
  const results = alice.stanzas.filter(isResult('q1'))
  assert.deepEqual(results.map(canonical), [
    expectedResult(
      results[0]!,
      'q1',
      `<message to='${A}' type='chat' id='b1' from='${B}/laptop'><body>one</body></message>`,
    ),
    expectedResult(
      results[1]!,
      'q1',
      `<message to='${B}/laptop' type='chat' id='a1' from='${A}/pc'><body>two</body></message>`,
    ),
    expectedResult(
      results[2]!,
      'q1',
      `<message to='${A}' type='chat' id='c1' from='${C}/phone'><body>three</body></message>`,
    ),
  ])
  assert.equal(
    results[0]?.getChild('result')?.attrs.id,
    stanzaId?.attrs.id,
    'the archive id is the stanza-id',
  )
  const ids = results.map((r) => r.getChild('result')?.attrs.id)
  assert.equal(
    canonical(fin),
    canonical(`
      <iq type='result' id='q1' from='${A}' to='${A}/pc'>
        <fin xmlns='urn:xmpp:mam:2' complete='true'>
          <set xmlns='http://jabber.org/protocol/rsm'><first>${ids[0]}</first><last>${ids[2]}</last></set>
        </fin>
      </iq>`),
  )
  for (const c of [alice, bob, carol]) await c.stop()
})

test('paging with RSM max/after/before, and the with/start filters', async () => {
  const alice = await online(t.starttlsPort, 'alice', 'pc')
  const page = async (id: string, form: string, set: string) => {
    const fin = await iq(alice, query(id, form, set))
    const bodies = alice.stanzas
      .filter(isResult(id))
      .map((el) => el.getChild('result')?.getChild('forwarded')?.getChild('message')?.getChildText('body'))
    return {
      bodies,
      fin: fin.getChild('fin')!,
      last: fin.getChild('fin')?.getChild('set')?.getChildText('last'),
    }
  }
  const first = await page('p1', '', '<max>2</max>')
  assert.deepEqual(first.bodies, ['one', 'two'])
  assert.equal(first.fin.attrs.complete, undefined, 'more to come')
  const second = await page('p2', '', `<max>2</max><after>${first.last}</after>`)
  assert.deepEqual(second.bodies, ['three'])
  assert.equal(second.fin.attrs.complete, 'true')
  const lastPage = await page('p3', '', '<max>2</max><before/>')
  assert.deepEqual(lastPage.bodies, ['two', 'three'])
  const withBob = await page('p4', `<field var='with'><value>${B}</value></field>`, '')
  assert.deepEqual(withBob.bodies, ['one', 'two'])
  const withCarolFull = await page('p5', `<field var='with'><value>${C}/phone</value></field>`, '')
  assert.deepEqual(withCarolFull.bodies, ['three'])
  const future = await page('p6', `<field var='start'><value>2999-01-01T00:00:00Z</value></field>`, '')
  assert.deepEqual(future.bodies, [])
  const past = await page('p7', `<field var='end'><value>2000-01-01T00:00:00Z</value></field>`, '')
  assert.deepEqual(past.bodies, [])
  assert.ok(
    (await exchange(alice, query('p8', '', '<after>nonexistent</after>'))).includes('<item-not-found '),
  )
  assert.ok(
    (await exchange(alice, query('p9', `<field var='start'><value>yesterday</value></field>`))).includes(
      '<bad-request ',
    ),
  )
  await alice.stop()
})

test("the query form is offered; another account's archive is forbidden", async () => {
  const alice = await online(t.starttlsPort, 'alice', 'pc')
  assert.equal(
    await exchange(alice, xml`<iq type='get' id='f1'><query xmlns='urn:xmpp:mam:2'/></iq>`),
    canonical(`
      <iq type='result' id='f1' from='${A}' to='${A}/pc'>
        <query xmlns='urn:xmpp:mam:2'>
          <x xmlns='jabber:x:data' type='form'>
            <field var='FORM_TYPE' type='hidden'><value>urn:xmpp:mam:2</value></field>
            <field var='with' type='jid-single'/>
            <field var='start' type='text-single'/>
            <field var='end' type='text-single'/>
          </x>
        </query>
      </iq>`),
  )
  const other = xml`<iq type='set' id='f2' to='${B}'><query xmlns='urn:xmpp:mam:2'/></iq>`
  assert.ok((await exchange(alice, other)).includes('<forbidden '))
  await alice.stop()
})

test('with [xmpp.archive] enabled = false nothing is archived, advertised or answered', async () => {
  // The default module list, as the other server: each server advertises per its own config.
  const off = await startServer({
    accounts: ['alice'],
    xmpp: { archive: { enabled: false, retentionDays: 90, maxPageSize: 100 } },
  })
  trustCertificate(off.cert)
  try {
    const alice = await online(off.starttlsPort, 'alice', 'pc')
    const info = await exchange(
      alice,
      xml`<iq type='get' id='i1'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`,
    )
    assert.ok(!info.includes('urn:xmpp:mam'), info)
    await alice.xmpp.send(chat(A, 'self', 'note to self'))
    const delivered = await alice.next((el) => el.attrs.id === 'self')
    assert.equal(delivered.getChild('stanza-id'), undefined)
    assert.ok((await exchange(alice, query('q-off'))).includes('<service-unavailable '))
    await alice.stop()
  } finally {
    trustCertificate(t.cert)
    await off.stop()
  }
  const alice = await online(t.starttlsPort, 'alice', 'pc')
  const info = await exchange(
    alice,
    xml`<iq type='get' id='i2'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`,
  )
  assert.ok(info.includes('urn:xmpp:mam:2'), info)
  await alice.stop()
})

test('messages older than retentionDays are never returned and are purged at the next archiving', async () => {
  const short = await startServer({
    accounts: ['alice'],
    xmpp: { archive: { enabled: true, retentionDays: 30, maxPageSize: 100 } },
    modules: [archiveModule],
  })
  trustCertificate(short.cert)
  try {
    // A message archived 31 days ago, written as the archive writes it.
    const messages = short.store.table('xmpp-archive-messages', jsonCodec(z.unknown()))
    const stamp = Date.now() - 31 * 86_400_000
    const oldKey = `alice\u0000${idAt(stamp * 1000)}`
    await messages.put(oldKey, {
      with: B,
      stamp,
      stanza: `<message from='${B}' to='${A}' type='chat'><body>old</body></message>`,
    })
    const alice = await online(short.starttlsPort, 'alice', 'pc')
    await iq(alice, query('r1'))
    assert.equal(alice.stanzas.filter(isResult('r1')).length, 0, 'expired: not returned')
    assert.ok(await messages.has(oldKey))
    await alice.xmpp.send(chat(A, 'new', 'new'))
    await alice.next((el) => el.attrs.id === 'new')
    assert.equal(await messages.has(oldKey), false, 'purged')
    await alice.stop()
  } finally {
    trustCertificate(t.cert)
    await short.stop()
  }
})

test('a body-less message with the <store/> hint (XEP-0334) is archived', async () => {
  const alice = await online(t.starttlsPort, 'alice', 'pc')
  const bob = await online(t.starttlsPort, 'bob', 'laptop')
  await bob.xmpp.send(xml`
    <message to='${A}' type='chat' id='r1'>
      <received xmlns='urn:xmpp:receipts' id='a1'/><store xmlns='urn:xmpp:hints'/>
    </message>`)
  await alice.next((el) => el.attrs.id === 'r1')
  await iq(alice, query('s1', '', '<max>1</max><before/>'))
  const [last] = alice.stanzas.filter(isResult('s1'))
  assert.equal(
    canonical(last!),
    expectedResult(
      last!,
      's1',
      `<message to='${A}' type='chat' id='r1' from='${B}/laptop'>
        <received xmlns='urn:xmpp:receipts' id='a1'/><store xmlns='urn:xmpp:hints'/>
      </message>`,
    ),
  )
  for (const c of [alice, bob]) await c.stop()
})

test('preferences (XEP-0313 §6.1): default, always and never decide what is archived', async () => {
  const alice = await online(t.starttlsPort, 'alice', 'pc')
  const bob = await online(t.starttlsPort, 'bob', 'laptop')
  const carol = await online(t.starttlsPort, 'carol', 'phone')
  assert.equal(
    await exchange(alice, xml`<iq type='get' id='pr1'><prefs xmlns='urn:xmpp:mam:2'/></iq>`),
    canonical(`
      <iq type='result' id='pr1' from='${A}' to='${A}/pc'>
        <prefs xmlns='urn:xmpp:mam:2' default='always'><always/><never/></prefs>
      </iq>`),
  )
  const prefs = `
    <prefs xmlns='urn:xmpp:mam:2' default='never'>
      <always><jid>${B}</jid></always>
      <never><jid>${C}</jid></never>
    </prefs>`
  assert.equal(
    await exchange(alice, xml`<iq type='set' id='pr2'>${prefs}</iq>`),
    canonical(`<iq type='result' id='pr2' from='${A}' to='${A}/pc'>${prefs}</iq>`),
  )
  await bob.xmpp.send(chat(A, 'kept', 'kept'))
  assert.ok((await alice.next((el) => el.attrs.id === 'kept')).getChild('stanza-id'), 'always: archived')
  await carol.xmpp.send(chat(A, 'not-kept', 'not kept'))
  assert.equal((await alice.next((el) => el.attrs.id === 'not-kept')).getChild('stanza-id'), undefined)
  await iq(alice, query('pq', '', '<max>1</max><before/>'))
  const [last] = alice.stanzas.filter(isResult('pq'))
  assert.equal(last?.getChild('result')?.getChild('forwarded')?.getChild('message')?.attrs.id, 'kept')
  for (const c of [alice, bob, carol]) await c.stop()
})

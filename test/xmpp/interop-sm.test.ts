import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { startServer, type TestServer } from './harness.js'
import { RawClient } from './raw-client.js'

let t: TestServer
before(async () => {
  t = await startServer({ limits: { smResumeTimeoutMs: 300 } })
})
after(() => t.stop())

async function online(resource: string, sm: boolean): Promise<RawClient> {
  const client = await RawClient.connect(t.starttlsPort)
  await client.login(t.cert, 'alice', resource)
  if (sm) {
    client.send(`<enable xmlns='urn:xmpp:sm:3' resume='true'/>`)
    await client.next((el) => el.name === 'enabled')
  }
  client.send('<presence/>')
  await client.next((el) => el.name === 'presence')
  return client
}

// Seen with slixmpp + Profanity: slixmpp (XEP-0198 on) fetched the archive and logged out before acking
// the results; when its session ended they were "rescued" to Profanity, which showed the whole history again
// as new incoming messages. Unacked messages meant for that resource alone must not go elsewhere.
test('archive results and carbon copies a resource never acked are not redelivered to another', async () => {
  const profanity = await online('profanity', false)
  const slixmpp = await online('slix', true)
  const bob = await RawClient.connect(t.starttlsPort)
  await bob.login(t.cert, 'bob', 'pc')
  bob.send(`<message to='alice@paranoim.localhost/slix' type='chat' id='m1'><body>archived</body></message>`)
  await slixmpp.next((el) => el.name === 'message' && el.getChildText('body') === 'archived')

  profanity.send(`<iq type='set' id='c'><enable xmlns='urn:xmpp:carbons:2'/></iq>`)
  await profanity.next((el) => el.attrs.id === 'c')
  slixmpp.send(`<iq type='set' id='c'><enable xmlns='urn:xmpp:carbons:2'/></iq>`)
  await slixmpp.next((el) => el.attrs.id === 'c')
  profanity.send(
    `<message to='bob@paranoim.localhost' type='chat' id='m2'><body>sent by profanity</body></message>`,
  )
  await slixmpp.next((el) => el.getChild('sent', 'urn:xmpp:carbons:2') !== undefined)
  slixmpp.send(`<iq type='set' id='q'><query xmlns='urn:xmpp:mam:2' queryid='x'/></iq>`)
  await slixmpp.next((el) => el.name === 'iq' && el.attrs.id === 'q')
  const before = profanity.received.length

  const gone = new Promise<void>((resolve) =>
    t.server.on('session-ended', (s) => s.jid.resource === 'slix' && resolve()),
  )
  slixmpp.close() // nothing acknowledged: the server still holds every result and the carbon
  await gone
  // A marker after the rescue: everything rescued would have reached profanity before it.
  bob.send(
    `<message to='alice@paranoim.localhost/profanity' type='chat' id='m3'><body>marker</body></message>`,
  )
  await profanity.next((el) => el.getChildText('body') === 'marker')
  const late = profanity.received.slice(before).filter((el) => el.name === 'message')
  // bob's unacked chat message is rescued, as it must be; nothing made for the slix resource alone.
  assert.deepEqual(
    late.map((el) => el.getChildText('body')),
    ['archived'],
    late.join('\n'),
  )
  profanity.close()
  bob.close()
})

import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { PASSWORD, startServer, type TestServer } from './harness.js'
import { RawClient } from './raw-client.js'

let t: TestServer
before(async () => {
  t = await startServer({ accounts: ['alice', 'bob'], limits: { smResumeTimeoutMs: 1500 } })
})
after(() => t.stop())

const SM = 'urn:xmpp:sm:3'
const message = (to: string, body: string) =>
  `<message to='${to}' type='chat' id='${body}'><body>${body}</body></message>`
const bodies = (client: RawClient) =>
  client.received.filter((el) => el.name === 'message').map((el) => el.getChildText('body'))

async function online(
  user: string,
  resource: string,
  sm = true,
): Promise<{ client: RawClient; id?: string }> {
  const client = await RawClient.connect(t.starttlsPort)
  await client.login(t.cert, user, resource)
  let id: string | undefined
  if (sm) {
    client.send(`<enable xmlns='${SM}' resume='true'/>`)
    id = (await client.next((el) => el.name === 'enabled')).attrs.id
  }
  client.send(`<presence/>`)
  await client.next((el) => el.name === 'presence')
  return { client, id }
}

async function waitFor(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 100 && !check(); i++) await new Promise((r) => setTimeout(r, 20))
  assert.ok(check(), what)
}

test('a dropped connection resumes: every unacknowledged stanza is sent again, nothing lost', async () => {
  const alice = await online('alice', 'pc', false)
  const { client: bob, id } = await online('bob', 'phone')
  for (const n of [1, 2, 3]) alice.client.send(message('bob@paranoim.localhost/phone', `m${n}`))
  await waitFor(() => bodies(bob).length === 3, 'bob got three messages')
  bob.close() // acknowledged nothing: self-presence and m1..m3 are in flight as far as the server knows
  await bob.closed
  for (const n of [4, 5]) alice.client.send(message('bob@paranoim.localhost/phone', `m${n}`))
  alice.client.send(`<iq type='get' id='sync' to='paranoim.localhost'><ping xmlns='urn:xmpp:ping'/></iq>`)
  await alice.client.next((el) => el.attrs.id === 'sync')

  const back = await RawClient.connect(t.starttlsPort)
  await back.open()
  await back.starttls(t.cert)
  assert.equal((await back.authenticate('SCRAM-SHA-256', 'bob', PASSWORD)).name, 'success')
  await back.open()
  // Bob had handled the self-presence and m1 (h=2); he sent 1 stanza (presence) before dropping.
  back.send(`<resume xmlns='${SM}' previd='${id}' h='2'/>`)
  const resumed = await back.next((el) => el.name === 'resumed')
  assert.equal(resumed.attrs.h, '1')
  await waitFor(() => bodies(back).length === 4, 'm2..m5 redelivered')
  assert.deepEqual(bodies(back), ['m2', 'm3', 'm4', 'm5'])
  // The session is the same one: still bound, still reachable at its full JID.
  alice.client.send(message('bob@paranoim.localhost/phone', 'm6'))
  await waitFor(() => bodies(back).includes('m6'), 'm6 after resumption')
  back.send(`<a xmlns='${SM}' h='7'/>`)
  back.send(`<r xmlns='${SM}'/>`)
  assert.equal((await back.next((el) => el.name === 'a')).attrs.h, '1')
  back.close()
  alice.client.close()
})

test('when the resumption window expires, unacknowledged messages go to another resource', async () => {
  const alice = await online('alice', 'pc', false)
  const { client: bob1 } = await online('bob', 'one')
  const { client: bob2 } = await online('bob', 'two', false)
  alice.client.send(message('bob@paranoim.localhost/one', 'rescued-1'))
  await waitFor(() => bodies(bob1).length === 1, 'bob1 got it')
  bob1.close()
  await waitFor(() => bodies(bob2).includes('rescued-1'), 'bob2 got it after the window (1.5 s)')
  const rescued = bob2.received.find((el) => el.getChildText('body') === 'rescued-1')!
  assert.ok(rescued.getChild('delay', 'urn:xmpp:delay'))
  bob2.close()
  alice.client.close()
})

test('when the window expires with nobody online, they go to offline storage', async () => {
  const alice = await online('alice', 'pc', false)
  const { client: bob } = await online('bob', 'solo')
  alice.client.send(message('bob@paranoim.localhost', 'kept-1'))
  alice.client.send(message('bob@paranoim.localhost/solo', 'kept-2'))
  await waitFor(() => bodies(bob).length === 2, 'bob got both')
  bob.close()
  await new Promise((r) => setTimeout(r, 2000))
  const later = await online('bob', 'later', false)
  await waitFor(() => bodies(later.client).length === 2, 'offline delivery')
  assert.deepEqual(bodies(later.client), ['kept-1', 'kept-2'])
  later.client.close()
  alice.client.close()
})

test('a bad resume fails cleanly; acknowledging unsent stanzas is a stream error', async () => {
  const client = await RawClient.connect(t.starttlsPort)
  await client.open()
  await client.starttls(t.cert)
  await client.authenticate('SCRAM-SHA-256', 'alice', PASSWORD)
  await client.open()
  client.send(`<resume xmlns='${SM}' previd='nope' h='0'/>`)
  assert.ok((await client.next((el) => el.name === 'failed')).getChild('item-not-found'))
  await client.bind('again')
  client.send(`<enable xmlns='${SM}'/>`)
  const enabled = await client.next((el) => el.name === 'enabled')
  assert.equal(enabled.attrs.resume, undefined)
  client.send(`<a xmlns='${SM}' h='99'/>`)
  assert.equal(await client.streamError(), 'undefined-condition')
})

test('a hibernating session whose queue overflows ends at once, and its queue goes to offline storage', async () => {
  const small = await startServer({
    accounts: ['alice', 'bob'],
    limits: { smMaxUnacked: 10, smResumeTimeoutMs: 60_000 },
  })
  const alice = await RawClient.connect(small.starttlsPort)
  await alice.login(small.cert, 'alice', 'pc')
  const bob = await RawClient.connect(small.starttlsPort)
  await bob.login(small.cert, 'bob', 'phone')
  bob.send(`<enable xmlns='${SM}' resume='true'/><presence/>`)
  await bob.next((el) => el.name === 'presence')
  bob.close()
  await bob.closed
  for (let n = 1; n <= 12; n++) alice.send(message('bob@paranoim.localhost/phone', `q${n}`))
  alice.send(`<iq type='get' id='sync' to='paranoim.localhost'><ping xmlns='urn:xmpp:ping'/></iq>`)
  await alice.next((el) => el.attrs.id === 'sync')
  const later = await RawClient.connect(small.starttlsPort)
  await later.login(small.cert, 'bob', 'later')
  later.send('<presence/>')
  await waitFor(() => bodies(later).length === 12, 'all twelve, long before the 60 s window')
  assert.deepEqual(
    bodies(later),
    Array.from({ length: 12 }, (_, i) => `q${i + 1}`),
  )
  for (const c of [alice, later]) c.close()
  await small.stop()
})

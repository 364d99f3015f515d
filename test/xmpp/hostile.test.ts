import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { startServer, type TestServer } from './harness.js'
import { RawClient } from './raw-client.js'

let t: TestServer
let witness: RawClient
before(async () => {
  t = await startServer({
    accounts: ['alice', 'mallory'],
    limits: {
      maxStanzaBytes: 10_000,
      maxDepth: 16,
      stanzaBurst: 50,
      stanzasPerSecond: 10,
      negotiationTimeoutMs: 2000,
    },
  })
  witness = await RawClient.connect(t.starttlsPort)
  await witness.login(t.cert, 'alice', 'witness')
})
after(async () => {
  witness.close()
  await t.stop()
})

let pings = 0
/** The bystander session still works: one server, other sessions untouched. */
async function witnessAlive(): Promise<void> {
  const id = `alive-${++pings}`
  witness.send(`<iq type='get' id='${id}' to='paranoim.localhost'><ping xmlns='urn:xmpp:ping'/></iq>`)
  assert.equal((await witness.next((el) => el.attrs.id === id)).attrs.type, 'result')
}

const HEADER = `<?xml version='1.0'?><stream:stream to='paranoim.localhost' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>`

const BILLION_LAUGHS = `<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><message><body>&lol2;</body></message>`

const BEFORE_AUTH: [string, string, string][] = [
  ['DTD with an entity bomb', HEADER + BILLION_LAUGHS, 'restricted-xml'],
  [
    'DTD before the stream header',
    `<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a "b">]>${HEADER}`,
    'restricted-xml',
  ],
  ['a comment', `${HEADER}<!-- hello -->`, 'restricted-xml'],
  ['a processing instruction', `${HEADER}<?evil stuff?>`, 'restricted-xml'],
  ['nesting too deep', HEADER + '<a>'.repeat(20), 'policy-violation'],
  ['a stanza too big', `${HEADER}<message><body>${'x'.repeat(20_000)}</body></message>`, 'policy-violation'],
  ['garbage', `${HEADER}<a></b>`, 'not-well-formed'],
  ['garbage instead of a stream', 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', 'not-well-formed'],
  [
    'a stanza before authentication',
    `${HEADER}<message to='alice@paranoim.localhost'><body>hi</body></message>`,
    'not-authorized',
  ],
  [
    'an IQ before authentication',
    `${HEADER}<iq type='get' id='1'><query xmlns='jabber:iq:roster'/></iq>`,
    'not-authorized',
  ],
  ['an unknown element', `${HEADER}<hello xmlns='urn:example'/>`, 'unsupported-stanza-type'],
  [
    'a wrong stream namespace',
    HEADER.replace("xmlns='jabber:client'", "xmlns='jabber:server'"),
    'invalid-namespace',
  ],
  ['an unknown host', HEADER.replace("to='paranoim.localhost'", "to='example.org'"), 'host-unknown'],
  [
    'an old stream version',
    HEADER.replace("version='1.0' xmlns=", "version='0.9' xmlns="),
    'unsupported-version',
  ],
  ['not a stream element', `<message/>`, 'invalid-namespace'],
  [
    'invalid UTF-8',
    Buffer.concat([Buffer.from(HEADER), Buffer.from([0x3c, 0xc3, 0x28, 0x3e])]).toString('binary'),
    'unsupported-encoding',
  ],
]

for (const [what, data, condition] of BEFORE_AUTH) {
  test(`before authentication, ${what} → ${condition}`, async () => {
    const client = await RawClient.connect(t.starttlsPort)
    client.send(what === 'invalid UTF-8' ? Buffer.from(data, 'binary') : data)
    assert.equal(await client.streamError(), condition)
    await witnessAlive()
  })
}

const AFTER_BIND: [string, string, string][] = [
  ['an entity bomb', BILLION_LAUGHS, 'restricted-xml'],
  [
    'a comment inside a stanza',
    `<message to='alice@paranoim.localhost'><!-- x --></message>`,
    'restricted-xml',
  ],
  ['nesting too deep', `<message>${'<b>'.repeat(20)}`, 'policy-violation'],
  ['a stanza too big', `<message><body>${'y'.repeat(20_000)}</body></message>`, 'policy-violation'],
  ['mismatched tags', `<message><body></message>`, 'not-well-formed'],
  [
    'a stanza in the wrong namespace',
    `<message xmlns='jabber:server' to='alice@paranoim.localhost'/>`,
    'invalid-namespace',
  ],
  ['an unknown top-level element', `<hello xmlns='urn:example'/>`, 'unsupported-stanza-type'],
  ['a flood of stanzas', `<presence/>`.repeat(200), 'policy-violation'],
]

for (const [what, data, condition] of AFTER_BIND) {
  test(`after binding, ${what} → ${condition}`, async () => {
    const client = await RawClient.connect(t.starttlsPort)
    await client.login(t.cert, 'mallory', `m${Math.random()}`)
    client.send(data)
    assert.equal(await client.streamError(), condition)
    await witnessAlive()
  })
}

test('stanza errors, not stream errors, for bad addressing and bad IQs', async () => {
  const client = await RawClient.connect(t.starttlsPort)
  await client.login(t.cert, 'mallory', 'stanzas')
  client.send(`<message id='m1' to='a@@b'><body>x</body></message>`)
  assert.ok((await client.next((el) => el.attrs.id === 'm1')).getChild('error')?.getChild('jid-malformed'))
  client.send(`<iq id='i1' type='bogus' to='paranoim.localhost'/>`)
  assert.ok((await client.next((el) => el.attrs.id === 'i1')).getChild('error')?.getChild('bad-request'))
  client.send(`<iq id='i2' type='get' to='paranoim.localhost'/>`)
  assert.ok((await client.next((el) => el.attrs.id === 'i2')).getChild('error')?.getChild('bad-request'))
  client.send(
    `<iq id='i3' type='get' to='paranoim.localhost'><ping xmlns='urn:xmpp:ping'/><ping xmlns='urn:xmpp:ping'/></iq>`,
  )
  assert.ok((await client.next((el) => el.attrs.id === 'i3')).getChild('error')?.getChild('bad-request'))
  client.send(`<message id='m2' to='paranoim.localhost'><body>x</body></message>`)
  assert.ok(
    (await client.next((el) => el.attrs.id === 'm2')).getChild('error')?.getChild('service-unavailable'),
  )
  client.send(`<iq id='i4' type='get' to='paranoim.localhost'><ping xmlns='urn:xmpp:ping'/></iq>`)
  assert.equal((await client.next((el) => el.attrs.id === 'i4')).attrs.type, 'result')
  client.close()
})

test('a client that never authenticates is dropped with connection-timeout', async () => {
  const client = await RawClient.connect(t.starttlsPort)
  await client.open()
  assert.equal(await client.streamError(4000), 'connection-timeout')
  await witnessAlive()
})

test('STARTTLS or SASL again after binding is refused', async () => {
  for (const again of [
    `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AG1hbGxvcnkAeA==</auth>`,
    `<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>`,
  ]) {
    const client = await RawClient.connect(t.starttlsPort)
    await client.login(t.cert, 'mallory', 'twice')
    client.send(again)
    assert.equal(await client.streamError(), 'unsupported-stanza-type')
  }
})

test('connections per address are capped, and every closed connection (STARTTLS ones too) frees its slot', async () => {
  const small = await startServer({ accounts: ['alice'], limits: { maxConnectionsPerIp: 2 } })
  for (let round = 0; round < 3; round++) {
    const a = await RawClient.connect(small.starttlsPort)
    const b = await RawClient.connect(small.starttlsPort)
    await a.login(small.cert, 'alice', `a${round}`)
    await b.open()
    const c = await RawClient.connect(small.starttlsPort)
    await c.closed // refused: the third connection from 127.0.0.1
    a.close()
    b.close()
    await Promise.all([a.closed, b.closed])
    await new Promise((r) => setTimeout(r, 50))
  }
  await small.stop()
})

test('enabling stream management before binding is refused without ending the stream', async () => {
  const client = await RawClient.connect(t.starttlsPort)
  await client.open()
  await client.starttls(t.cert)
  await client.authenticate('SCRAM-SHA-256', 'mallory', (await import('./harness.js')).PASSWORD)
  await client.open()
  client.send(`<enable xmlns='urn:xmpp:sm:3'/>`)
  assert.ok((await client.next((el) => el.name === 'failed')).getChild('unexpected-request'))
  assert.match(await client.bind('later'), /mallory/)
  client.close()
})

test('a port already in use is a clear XmppListenError, not a crash', async () => {
  const { XmppListenError } = await import('../../bridge/xmpp/server.js')
  await assert.rejects(
    startServer({ xmpp: { port: t.starttlsPort } }),
    (err) => err instanceof XmppListenError && err.message.includes(`127.0.0.1:${t.starttlsPort}`),
  )
})

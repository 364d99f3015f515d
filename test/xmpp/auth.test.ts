import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { login, trustCertificate } from './client.js'
import { PASSWORD, startServer, type TestServer } from './harness.js'
import { RawClient, type ScramMechanism } from './raw-client.js'

let t: TestServer
before(async () => {
  t = await startServer({ limits: { authFailuresPerMinute: 3 } })
  trustCertificate(t.cert)
})
after(() => t.stop())

async function tlsClient(): Promise<RawClient> {
  const client = await RawClient.connect(t.starttlsPort)
  const features = await client.open()
  assert.ok(features.getChild('starttls')?.getChild('required'), 'STARTTLS is required')
  assert.equal(features.getChild('mechanisms'), undefined, 'no mechanisms before TLS')
  await client.starttls(t.cert)
  return client
}

test('@xmpp/client logs in with SCRAM-SHA-1 over STARTTLS and with PLAIN over direct TLS', async () => {
  const scram = await login(t.starttlsPort, 'alice', { mechanism: 'SCRAM-SHA-1' })
  assert.match(scram.jid, /^alice@paranoim\.localhost\/.+/)
  const plain = await login(t.directTlsPort, 'bob', { direct: true, mechanism: 'PLAIN', resource: 'laptop' })
  assert.equal(plain.jid, 'bob@paranoim.localhost/laptop')
  await scram.stop()
  await plain.stop()
})

for (const [mechanism, cbType] of [
  ['SCRAM-SHA-256', ''],
  ['SCRAM-SHA-1', ''],
  ['SCRAM-SHA-256-PLUS', 'tls-exporter'],
  ['SCRAM-SHA-1-PLUS', 'tls-server-end-point'],
  ['SCRAM-SHA-256-PLUS', 'tls-server-end-point'],
] as [ScramMechanism, string][]) {
  test(`${mechanism} ${cbType} authenticates, the server proves it knows the key, and binding works`, async () => {
    const client = await tlsClient()
    const outcome = await client.authenticate(mechanism, 'alice', PASSWORD, cbType || undefined)
    assert.equal(outcome.name, 'success', String(outcome))
    const features = await client.open()
    assert.ok(features.getChild('bind'))
    assert.ok(features.getChild('sm'))
    assert.match(await client.bind(), /^alice@paranoim\.localhost\//)
    client.close()
  })
}

test('the server offers channel binding types (XEP-0440) and all mechanisms after TLS', async () => {
  const client = await RawClient.connect(t.starttlsPort)
  await client.open()
  const features = await client.starttls(t.cert)
  const mechanisms = features
    .getChild('mechanisms')!
    .getChildren('mechanism')
    .map((m) => m.getText())
  assert.deepEqual(mechanisms, [
    'SCRAM-SHA-256-PLUS',
    'SCRAM-SHA-1-PLUS',
    'SCRAM-SHA-256',
    'SCRAM-SHA-1',
    'PLAIN',
  ])
  const types = features
    .getChild('sasl-channel-binding')!
    .getChildren('channel-binding')
    .map((c) => c.attrs.type)
  assert.deepEqual(types, ['tls-exporter', 'tls-server-end-point'])
  client.close()
})

test('a wrong password or unknown account is not-authorized; failures are rate-limited per address', async () => {
  await assert.rejects(login(t.starttlsPort, 'alice', { password: 'wrong' }), /not-authorized/)
  const client = await tlsClient()
  assert.equal(
    (await client.authenticate('SCRAM-SHA-256', 'mallory', PASSWORD)).getChildElements()[0]!.name,
    'not-authorized',
  )
  assert.equal(
    (await client.authenticate('PLAIN', 'alice', 'nope')).getChildElements()[0]!.name,
    'not-authorized',
  )
  // Third strike reached (limit 3/min): even the right password is refused for now.
  const limited = await client.authenticate('SCRAM-SHA-256', 'alice', PASSWORD)
  assert.equal(limited.getChildElements()[0]!.name, 'temporary-auth-failure')
  client.close()
})

test('PLAIN and stanzas before TLS/authentication are refused', async () => {
  const early = await RawClient.connect(t.starttlsPort)
  await early.open()
  early.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGFsaWNlAHg=</auth>`)
  const failure = await early.next((el) => el.name === 'failure')
  assert.equal(failure.getChildElements()[0]!.name, 'encryption-required')
  early.send(`<message to='bob@paranoim.localhost'><body>hi</body></message>`)
  assert.equal(await early.streamError(), 'not-authorized')
})

test('the certificate is generated once, kept with a 0600 key, and its fingerprint exposed', async () => {
  const { X509Certificate } = await import('node:crypto')
  const { stat } = await import('node:fs/promises')
  assert.equal(t.server.fingerprint, new X509Certificate(t.cert).fingerprint256)
  const key = await stat(`${t.config.store.dataDir}/tls/paranoim.localhost.key`)
  assert.equal(key.mode & 0o777, 0o600)
  const client = await RawClient.connect(t.directTlsPort, { directTls: t.cert })
  assert.equal(client.tlsSocket.getPeerX509Certificate()!.fingerprint256, t.server.fingerprint)
  client.close()
})

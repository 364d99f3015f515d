import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { PASSWORD, startServer, type TestServer } from './harness.js'
import { RawClient } from './raw-client.js'

let t: TestServer
before(async () => {
  t = await startServer({ limits: { authFailuresPerMinute: 2 } })
})
after(() => t.stop())

// slixmpp 1.8 (Debian 12) always tries SCRAM-SHA-256-PLUS with tls-unique, undefined on TLS 1.3
// (RFC 9266), then SCRAM-SHA-1-PLUS, then falls back to plain SCRAM. Before this was fixed, each
// refused binding counted as a failed login, and its second reconnect within a minute was locked out.
test('an unsupported channel binding type is malformed-request and no failed login', async () => {
  for (let round = 0; round < 3; round++) {
    const client = await RawClient.connect(t.starttlsPort)
    await client.open()
    await client.starttls(t.cert)
    for (const mechanism of ['SCRAM-SHA-256-PLUS', 'SCRAM-SHA-1-PLUS'] as const) {
      const refused = await client.authenticate(mechanism, 'alice', PASSWORD, 'tls-unique')
      assert.equal(refused.name, 'failure')
      assert.ok(refused.getChild('malformed-request'), refused.toString())
      assert.match(
        refused.getChildText('text') ?? '',
        /tls-unique \(offered: tls-exporter, tls-server-end-point\)/,
      )
    }
    const outcome = await client.authenticate('SCRAM-SHA-256', 'alice', PASSWORD)
    assert.equal(outcome.name, 'success', `round ${round}: ${outcome.toString()}`)
    client.close()
  }
})

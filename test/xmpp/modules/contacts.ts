import { capsHash } from '../../../bridge/xmpp/modules/caps-hash.js'
import { login, type TestClient } from '../client.js'
import { answerDiscoInfo, stanza, xml } from './stanzas.js'

/**
 * Logs in and sends initial presence with XEP-0115 caps listing `features`
 * (answering the server's disco#info as a client does), then waits for the
 * presence echo; what arrived before is cleared, so tests see only what follows.
 */
export async function online(
  port: number,
  user: string,
  resource: string,
  features: string[] = [],
): Promise<TestClient> {
  const client = await login(port, user, { resource })
  const query = stanza(`
    <query xmlns='http://jabber.org/protocol/disco#info'>
      <identity category='client' type='pc' name='test'/>
      ${features.map((f) => `<feature var='${f}'/>`).join('')}
    </query>`)
  answerDiscoInfo(client, query)
  const ver = capsHash(query)
  await client.xmpp.send(xml`
    <presence><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='urn:example:test-client' ver='${ver}'/></presence>`)
  await client.next((el) => el.name === 'presence' && el.attrs.from === client.jid)
  client.stanzas.length = 0
  return client
}

/** Mutual presence subscription between two online accounts, by pre-approval (RFC 6121 §3.4) both ways. */
export async function befriend(a: TestClient, b: TestClient): Promise<void> {
  const bare = (c: TestClient) => c.jid.split('/')[0]!
  for (const [x, y] of [
    [a, b],
    [b, a],
  ] as const) {
    await x.xmpp.send(xml`<presence type='subscribed' to='${bare(y)}'/>`)
    await y.xmpp.send(xml`<presence type='subscribe' to='${bare(x)}'/>`)
    await y.next(
      (el) => el.name === 'presence' && el.attrs.type === 'subscribed' && el.attrs.from === bare(x),
    )
  }
  a.stanzas.length = 0
  b.stanzas.length = 0
}

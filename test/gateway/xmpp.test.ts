import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import { after, before, test } from 'node:test'
import { parse, createElement as xml } from 'ltx'
import { defaultConfig } from '../../bridge/config/schema.js'
import { parseAddress } from '../../bridge/crypto/address.js'
import { GatewayError } from '../../bridge/gateway/errors.js'
import { Gateway, type GatewayMessenger } from '../../bridge/gateway/gateway.js'
import { silentLogger } from '../../bridge/log.js'
import type { InboundMessage } from '../../bridge/messaging/inbox.js'
import type { Messenger } from '../../bridge/messaging/messenger.js'
import type { BatchOp, Store } from '../../bridge/store/index.js'
import { XMPPError } from '../../bridge/xmpp/errors.js'
import type { RemoteRouter } from '../../bridge/xmpp/remote.js'
import { login, type TestClient, trustCertificate } from '../xmpp/client.js'
import { startServer, type TestServer } from '../xmpp/harness.js'

/**
 * The gateway in front of a real XMPP server, with real clients: two accounts
 * of one bridge talking through their network addresses (the local-to-local
 * path), over a loopback messenger that delivers to the same gateway.
 */
class LoopbackMessenger extends EventEmitter<{
  unreachable: [{ from: Uint8Array; to: Uint8Array }]
  heard: [{ from: Uint8Array; to: Uint8Array }]
}> {
  deliver: ((message: InboundMessage) => Promise<void>) | undefined
  readonly log: Array<{ reliable: boolean }> = []

  /** The store the real messenger commits `alsoWrite` to, with the outbox entry. */
  constructor(private readonly store: Store) {
    super()
  }

  async send(
    from: Uint8Array,
    to: Uint8Array,
    body: Uint8Array,
    options: { reliable?: boolean; alsoWrite?: BatchOp[] } = {},
  ) {
    await this.store.batch(options.alsoWrite ?? [])
    const reliable = options.reliable ?? true
    this.log.push({ reliable })
    const message = { from, to, body, reliable, id: new Uint8Array(16), timestamp: Date.now() }
    setImmediate(() => void this.deliver?.(message))
    return { id: message.id, timestamp: message.timestamp }
  }
}

/** The real Messenger is what the service hands the gateway. */
export type MessengerFits = Messenger extends GatewayMessenger ? true : never
const fits: MessengerFits = true
void fits

let t: TestServer
let gateway: Gateway
const addresses = new Map<string, Uint8Array>()
const jids = new Map<string, string>()

/** What the service does: the gateway's refusals become the XMPP server's stanza errors. */
function remoteRouter(): RemoteRouter {
  return {
    async route(stanza, to) {
      try {
        await gateway.route(stanza, to)
      } catch (err) {
        if (err instanceof GatewayError) throw new XMPPError(err.condition, err.text)
        throw err
      }
    },
  }
}

before(async () => {
  t = await startServer({ accounts: ['alice', 'bob'], remote: remoteRouter() })
  trustCertificate(t.cert)
  for (const nick of ['alice', 'bob']) {
    const address = (await t.identities.get(nick)).address
    addresses.set(nick, parseAddress(address))
    jids.set(nick, `${address}@${t.config.xmpp.domain}`)
  }
  const messenger = new LoopbackMessenger(t.store)
  gateway = new Gateway({
    config: defaultConfig().gateway,
    domain: t.config.xmpp.domain,
    maxMessageBytes: t.config.messaging.maxMessageBytes,
    messenger,
    xmpp: t.server,
    identities: {
      addressOf: (nick) => addresses.get(nick),
      accountOf: (key) => [...addresses].find(([, a]) => Buffer.from(a).equals(Buffer.from(key)))?.[0],
    },
    store: t.store,
    log: silentLogger,
  })
  messenger.deliver = (m) => gateway.deliver(m)
})

after(async () => {
  gateway.stop()
  await t.stop()
})

const online = async (user: string): Promise<TestClient> => {
  const client = await login(t.starttlsPort, user, { resource: 'pc' })
  await client.xmpp.send(xml('presence', {}))
  await client.next((el) => el.name === 'presence' && el.attrs.from === client.jid)
  return client
}

test('subscription, presence, a stripped message and its receipt between two accounts by address', async () => {
  const alice = await online('alice')
  const bob = await online('bob')
  const aliceJid = jids.get('alice')!
  const bobJid = jids.get('bob')!

  // Alice asks; Bob sees an ordinary request with its text, from Alice's address.
  await alice.xmpp.send(xml('presence', { to: bobJid, type: 'subscribe' }, xml('status', {}, 'it is Alice')))
  const request = await bob.next((el) => el.name === 'presence' && el.attrs.type === 'subscribe')
  assert.equal(request.attrs.from, aliceJid)
  assert.equal(request.getChildText('status'), 'it is Alice')

  // Bob accepts and asks back; Alice accepts: mutual, and each sees the other online.
  await bob.xmpp.send(xml('presence', { to: aliceJid, type: 'subscribed' }))
  await bob.xmpp.send(xml('presence', { to: aliceJid, type: 'subscribe' }))
  await alice.next(
    (el) => el.name === 'presence' && el.attrs.type === 'subscribe' && el.attrs.from === bobJid,
  )
  await alice.xmpp.send(xml('presence', { to: bobJid, type: 'subscribed' }))
  await alice.next((el) => el.name === 'presence' && el.attrs.from === bobJid && el.attrs.type === undefined)
  await bob.next((el) => el.name === 'presence' && el.attrs.from === aliceJid && el.attrs.type === undefined)

  // A message with client extras: Bob gets only the allowed parts, under a network id.
  await alice.xmpp.send(
    parse(
      `<message to="${bobJid}" type="chat" id="alice-client-1" xml:lang="en"><body>hello Bob</body>` +
        '<html xmlns="http://jabber.org/protocol/xhtml-im"><body xmlns="http://www.w3.org/1999/xhtml">hello</body></html>' +
        '<request xmlns="urn:xmpp:receipts"/><origin-id xmlns="urn:xmpp:sid:0" id="alice-client-1"/></message>',
    ),
  )
  const got = await bob.next((el) => el.name === 'message' && el.getChildText('body') === 'hello Bob')
  assert.equal(got.attrs.from, aliceJid)
  assert.match(got.attrs.id ?? '', /^[0-9a-f]{32}$/)
  assert.equal(got.getChild('html'), undefined)
  assert.equal(got.getChild('origin-id'), undefined)
  assert.equal(got.attrs['xml:lang'], undefined)
  assert.ok(got.getChild('request', 'urn:xmpp:receipts'))

  // Bob's receipt names the network id; Alice sees her own id.
  await bob.xmpp.send(
    xml(
      'message',
      { to: aliceJid, id: 'bob-r1' },
      xml('received', { xmlns: 'urn:xmpp:receipts', id: got.attrs.id }),
    ),
  )
  const receipt = await alice.next((el) => el.name === 'message' && el.getChild('received') !== undefined)
  assert.equal(receipt.getChild('received')?.attrs.id, 'alice-client-1')

  // No IQ crosses: a ping to a contact is answered service-unavailable at once.
  await alice.xmpp.send(
    xml('iq', { to: bobJid, type: 'get', id: 'p1' }, xml('ping', { xmlns: 'urn:xmpp:ping' })),
  )
  const pong = await alice.next((el) => el.name === 'iq' && el.attrs.id === 'p1')
  assert.equal(pong.attrs.type, 'error')
  assert.ok(pong.getChild('error')?.getChild('service-unavailable'))

  await alice.stop()
  await bob.stop()
})

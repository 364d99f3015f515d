import assert from 'node:assert/strict'
import { after, beforeEach, describe, it } from 'node:test'
import fc from 'fast-check'
import { parse } from 'ltx'
import { encodeAddress } from '../../bridge/crypto/address.js'
import { GatewayError } from '../../bridge/gateway/errors.js'
import { decodeStanzaPayload, type MessagePayload } from '../../bridge/wire/stanza-payload.js'
import { carry, DOMAIN, FakeClock, inbound, jidOf, key, type Side, settle, side, to } from './helpers.js'

const ALICE = key(1)
const CAROL = key(3)
const STRANGER = key(7)

let a: Side
let c: Side
const sides: Side[] = []

async function pair(gateway = {}): Promise<void> {
  const clock = new FakeClock()
  a = await side('alice', ALICE, gateway, clock)
  c = await side('carol', CAROL, gateway, clock)
  sides.push(a, c)
}

const fromAlice = (xml: string) => parse(xml.replace('<message', `<message from="alice@${DOMAIN}/gajim"`))
const payloadOf = (s: { body: Uint8Array }) => decodeStanzaPayload(s.body)

after(async () => {
  for (const s of sides) {
    s.gateway.stop()
    await s.store.close()
  }
})

describe('gateway: what crosses', () => {
  beforeEach(() => pair())

  it('strips everything not allow-listed and rebuilds a clean stanza', async () => {
    c.xmpp.set('carol', ALICE, 'both')
    await a.gateway.route(
      fromAlice(
        `<message to="${jidOf(CAROL)}" type="chat" id="gajim-1" xml:lang="fr" foo="bar">` +
          '<body xml:lang="fr">Bonjour &lt;3</body>' +
          '<html xmlns="http://jabber.org/protocol/xhtml-im"><body xmlns="http://www.w3.org/1999/xhtml"><b>Bonjour</b></body></html>' +
          '<x xmlns="jabber:x:encrypted">junk</x><origin-id xmlns="urn:xmpp:sid:0" id="fp"/>' +
          '<thread parent="p1">t1</thread><request xmlns="urn:xmpp:receipts"/><markable xmlns="urn:xmpp:chat-markers:0"/>' +
          '<active xmlns="http://jabber.org/protocol/chatstates"/><x xmlns="jabber:x:oob"><url>https://e.org/f</url><desc>f</desc></x>' +
          '<no-store xmlns="urn:xmpp:hints"/><body xmlns="urn:evil">second</body></message>',
      ),
      to(CAROL),
    )
    const [sent] = a.messenger.sent
    assert.ok(sent?.reliable)
    const payload = payloadOf(sent) as MessagePayload
    await carry(a, c)
    const [stanza] = c.xmpp.injected
    assert.ok(stanza)
    const id = Buffer.from(payload.id).toString('hex')
    assert.equal(
      stanza.toString(),
      `<message from="${jidOf(ALICE)}" to="carol@${DOMAIN}" type="chat" id="${id}">` +
        '<body>Bonjour &lt;3</body><thread parent="p1">t1</thread>' +
        '<request xmlns="urn:xmpp:receipts"/><markable xmlns="urn:xmpp:chat-markers:0"/>' +
        '<no-store xmlns="urn:xmpp:hints"/><active xmlns="http://jabber.org/protocol/chatstates"/>' +
        '<x xmlns="jabber:x:oob"><url>https://e.org/f</url><desc>f</desc></x></message>',
    )
  })

  it('the same content from different clients gives the same bytes (ids aside)', async () => {
    const random = () => new Uint8Array(16).fill(9)
    Object.assign(a.gateway, { random })
    await a.gateway.route(
      fromAlice(`<message to="${jidOf(CAROL)}" type="chat" id="a"><body>hi</body></message>`),
      to(CAROL),
    )
    await a.gateway.route(
      fromAlice(
        `<message xmlns="jabber:client" id="purple7" type="chat" to="${jidOf(CAROL)}"><body>hi</body><x xmlns="vcard-temp:x:update"/></message>`,
      ),
      to(CAROL),
    )
    const [first, second] = a.messenger.sent
    assert.deepEqual(first?.body, second?.body)
  })

  it('reliability: content and subscriptions are reliable, chat states and presence ephemeral', async () => {
    a.xmpp.set('alice', CAROL, 'both')
    await a.gateway.route(
      fromAlice(
        `<message to="${jidOf(CAROL)}" type="chat"><composing xmlns="http://jabber.org/protocol/chatstates"/></message>`,
      ),
      to(CAROL),
    )
    await a.gateway.route(fromAlice(`<message to="${jidOf(CAROL)}"><body>x</body></message>`), to(CAROL))
    await a.gateway.route(
      parse(
        `<presence from="alice@${DOMAIN}" to="${jidOf(CAROL)}" type="subscribe"><status>hello</status><nick xmlns="http://jabber.org/protocol/nick">Al</nick></presence>`,
      ),
      to(CAROL),
    )
    await a.gateway.route(
      parse(
        `<presence from="alice@${DOMAIN}/r" to="${jidOf(CAROL)}"><show>away</show><priority>5</priority></presence>`,
      ),
      to(CAROL),
    )
    await a.gateway.route(
      parse(`<presence from="alice@${DOMAIN}" to="${jidOf(CAROL)}" type="probe"/>`),
      to(CAROL),
    )
    const sent = a.messenger.take()
    assert.deepEqual(
      sent.map((s) => [payloadOf(s).kind, s.reliable]),
      [
        ['message', false],
        ['message', true],
        ['presence', true],
        ['presence', false],
        ['presence', false],
      ],
    )
    assert.deepEqual(payloadOf(sent[2]!), { kind: 'presence', type: 'subscribe', status: 'hello' })
    assert.deepEqual(payloadOf(sent[3]!), { kind: 'presence', type: 'available', show: 'away' })
  })

  it('drops empty messages and errors; refuses IQs, headlines, other domains, non-addresses, locked senders', async () => {
    await a.gateway.route(
      fromAlice(`<message to="${jidOf(CAROL)}"><request xmlns="urn:xmpp:receipts"/></message>`),
      to(CAROL),
    )
    await a.gateway.route(
      fromAlice(`<message to="${jidOf(CAROL)}" type="error"><body>x</body></message>`),
      to(CAROL),
    )
    assert.equal(a.messenger.sent.length, 0)
    const refusal = async (xml: string, target: { local: string; domain: string }, condition: string) =>
      assert.rejects(
        a.gateway.route(parse(xml), target),
        (e) => e instanceof GatewayError && e.condition === condition,
      )
    await refusal(
      `<iq from="alice@${DOMAIN}/r" type="get" id="1"><ping xmlns="urn:xmpp:ping"/></iq>`,
      to(CAROL),
      'service-unavailable',
    )
    await refusal(
      `<message from="alice@${DOMAIN}/r" type="headline"><body>x</body></message>`,
      to(CAROL),
      'feature-not-implemented',
    )
    await refusal(
      `<message from="alice@${DOMAIN}/r"><body>x</body></message>`,
      { local: 'bob', domain: 'example.org' },
      'remote-server-not-found',
    )
    await refusal(
      `<message from="alice@${DOMAIN}/r"><body>x</body></message>`,
      { local: 'nobody', domain: DOMAIN },
      'item-not-found',
    )
    await refusal(
      `<message from="dave@${DOMAIN}/r"><body>x</body></message>`,
      to(CAROL),
      'recipient-unavailable',
    )
    await refusal(
      `<message from="alice@${DOMAIN}/r"><body>${'x'.repeat(70_000)}</body></message>`,
      to(CAROL),
      'policy-violation',
    )
  })

  it('a messenger refusal (outbox full) becomes resource-constraint', async () => {
    const { ParanoimError } = await import('../../bridge/errors.js')
    a.messenger.failure = new ParanoimError('OUTBOX_FULL', 'too many messages waiting for this contact')
    await assert.rejects(
      a.gateway.route(fromAlice(`<message to="${jidOf(CAROL)}"><body>x</body></message>`), to(CAROL)),
      (e) => e instanceof GatewayError && e.condition === 'resource-constraint',
    )
  })
})

describe('gateway: ids', () => {
  beforeEach(async () => {
    await pair()
    a.xmpp.set('alice', CAROL, 'both')
    c.xmpp.set('carol', ALICE, 'both')
  })

  it('receipts, markers and corrections name each side its own ids', async () => {
    await a.gateway.route(
      fromAlice(
        `<message to="${jidOf(CAROL)}" type="chat" id="gajim-42"><body>hi</body><request xmlns="urn:xmpp:receipts"/></message>`,
      ),
      to(CAROL),
    )
    await carry(a, c)
    const shown = c.xmpp.injected.shift()!
    const networkId = shown.attrs.id as string
    assert.match(networkId, /^[0-9a-f]{32}$/)
    // Carol's client (another format of ids) acknowledges and marks it displayed.
    await c.gateway.route(
      parse(
        `<message from="carol@${DOMAIN}/conv" to="${jidOf(ALICE)}" id="c-1"><received xmlns="urn:xmpp:receipts" id="${networkId}"/></message>`,
      ),
      to(ALICE),
    )
    await c.gateway.route(
      parse(
        `<message from="carol@${DOMAIN}/conv" to="${jidOf(ALICE)}" type="chat" id="c-2"><displayed xmlns="urn:xmpp:chat-markers:0" id="${networkId}"/></message>`,
      ),
      to(ALICE),
    )
    await carry(c, a)
    const [receipt, marker] = a.xmpp.injected.splice(0)
    assert.equal(receipt?.getChild('received', 'urn:xmpp:receipts')?.attrs.id, 'gajim-42')
    assert.equal(marker?.getChild('displayed', 'urn:xmpp:chat-markers:0')?.attrs.id, 'gajim-42')
    // Alice corrects her message: Carol's side sees the network id it knows.
    await a.gateway.route(
      fromAlice(
        `<message to="${jidOf(CAROL)}" type="chat" id="gajim-43"><body>hi!</body><replace xmlns="urn:xmpp:message-correct:0" id="gajim-42"/></message>`,
      ),
      to(CAROL),
    )
    await carry(a, c)
    assert.equal(
      c.xmpp.injected.shift()?.getChild('replace', 'urn:xmpp:message-correct:0')?.attrs.id,
      networkId,
    )
  })

  it('a client’s resend of an accepted message (same id, XEP-0198 after a failed resume) goes out once', async () => {
    const message = () =>
      fromAlice(`<message to="${jidOf(CAROL)}" type="chat" id="sm-7"><body>once</body></message>`)
    await a.gateway.route(message(), to(CAROL))
    await a.gateway.route(message(), to(CAROL))
    assert.equal(a.messenger.sent.length, 1)
    await a.gateway.route(
      fromAlice(`<message to="${jidOf(CAROL)}" type="chat" id="sm-8"><body>once</body></message>`),
      to(CAROL),
    )
    assert.equal(a.messenger.sent.length, 2, 'another id is another message, even with the same text')
  })

  it('a reference to an unknown id is dropped (and a receipt-only message with it)', async () => {
    await c.gateway.route(
      parse(
        `<message from="carol@${DOMAIN}/conv" to="${jidOf(ALICE)}"><received xmlns="urn:xmpp:receipts" id="never-seen"/></message>`,
      ),
      to(ALICE),
    )
    assert.equal(c.messenger.sent.length, 0)
  })

  it('ids survive a restart of the gateway (persistent map)', async () => {
    await a.gateway.route(
      fromAlice(`<message to="${jidOf(CAROL)}" id="x1"><body>hi</body></message>`),
      to(CAROL),
    )
    const networkId = Buffer.from((payloadOf(a.messenger.sent[0]!) as MessagePayload).id).toString('hex')
    a.messenger.take()
    a.gateway.stop()
    const { Gateway } = await import('../../bridge/gateway/gateway.js')
    const again = new Gateway({
      ...(a.gateway as unknown as { options: ConstructorParameters<typeof Gateway>[0] }).options,
    })
    sides.push({ ...a, gateway: again })
    await c.gateway.route(
      parse(
        `<message from="carol@${DOMAIN}/c" to="${jidOf(ALICE)}"><received xmlns="urn:xmpp:receipts" id="${networkId}"/></message>`,
      ),
      to(ALICE),
    )
    for (const s of c.messenger.take()) await again.deliver(inbound(s, a.clock.now()))
    assert.equal(a.xmpp.injected[0]?.getChild('received', 'urn:xmpp:receipts')?.attrs.id, 'x1')
  })
})

describe('gateway: inbound', () => {
  beforeEach(async () => {
    await pair()
    a.xmpp.set('alice', CAROL, 'both')
    c.xmpp.set('carol', ALICE, 'both')
  })

  it('old messages get a delay stamp with the sender time', async () => {
    await a.gateway.route(fromAlice(`<message to="${jidOf(CAROL)}"><body>late</body></message>`), to(CAROL))
    const sentAt = c.clock.now() - 60_000
    await carry(a, c, sentAt)
    const delay = c.xmpp.injected[0]?.getChild('delay', 'urn:xmpp:delay')
    assert.equal(delay?.attrs.stamp, new Date(sentAt).toISOString())
    assert.equal(delay?.attrs.from, DOMAIN)
  })

  it('a refusal that waiting cures is rethrown (the messenger retries); others are dropped', async () => {
    await a.gateway.route(fromAlice(`<message to="${jidOf(CAROL)}"><body>x</body></message>`), to(CAROL))
    const [sent] = a.messenger.take()
    c.xmpp.refusal = { condition: 'resource-constraint', type: 'wait' }
    await assert.rejects(c.gateway.deliver(inbound(sent!, c.clock.now())))
    c.xmpp.refusal = { condition: 'service-unavailable', type: 'cancel' }
    await c.gateway.deliver(inbound(sent!, c.clock.now()))
  })

  it('hostile payloads are dropped without a throw', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 300 }), async (body) => {
        await c.gateway.deliver({
          from: ALICE,
          to: CAROL,
          id: new Uint8Array(16),
          timestamp: 0,
          body,
          reliable: true,
        })
      }),
      { numRuns: 500 },
    )
    await c.gateway.deliver({
      from: ALICE,
      to: key(99),
      id: new Uint8Array(16),
      timestamp: 0,
      body: new Uint8Array(),
      reliable: true,
    })
    await c.gateway.deliver({
      from: new Uint8Array(5),
      to: CAROL,
      id: new Uint8Array(16),
      timestamp: 0,
      body: new Uint8Array(),
      reliable: true,
    })
    for (const stanza of c.xmpp.injected) assert.equal(encodeAddress(ALICE), stanza.attrs.from?.split('@')[0])
  })
})

describe('gateway: presence', () => {
  beforeEach(() =>
    pair({ presenceMinIntervalMs: 2000, presenceHeartbeatMs: 60_000, presenceMissedHeartbeats: 2.5 }),
  )

  const available = (show?: string, resource = 'r') =>
    parse(
      `<presence from="alice@${DOMAIN}/${resource}" to="${jidOf(CAROL)}">${show ? `<show>${show}</show>` : ''}</presence>`,
    )

  it('crosses only between mutual contacts, both ways', async () => {
    for (const sub of ['none', 'to', 'from'] as const) {
      a.xmpp.set('alice', CAROL, sub)
      await a.gateway.route(available(), to(CAROL))
    }
    assert.equal(a.messenger.sent.length, 0)
    a.xmpp.set('alice', CAROL, 'both')
    await a.gateway.route(available(), to(CAROL))
    assert.equal(a.messenger.sent.length, 1)
    c.xmpp.set('carol', ALICE, 'to')
    await carry(a, c)
    assert.equal(c.xmpp.injected.length, 0)
    c.xmpp.set('carol', ALICE, 'both')
    await a.clock.advance(2000)
    await a.gateway.route(available('chat'), to(CAROL))
    await carry(a, c)
    assert.equal(
      c.xmpp.injected[0]?.toString(),
      `<presence from="${jidOf(ALICE)}" to="carol@${DOMAIN}"><show>chat</show></presence>`,
    )
  })

  it('at most one presence per interval, the latest wins; resources merge', async () => {
    a.xmpp.set('alice', CAROL, 'both')
    await a.gateway.route(available('away'), to(CAROL))
    await a.gateway.route(available('dnd'), to(CAROL))
    await a.gateway.route(available('xa', 'phone'), to(CAROL))
    await a.gateway.route(
      parse(`<presence from="alice@${DOMAIN}/phone" to="${jidOf(CAROL)}" type="unavailable"/>`),
      to(CAROL),
    )
    assert.deepEqual(
      a.messenger.sent.map((s) => payloadOf(s)),
      [{ kind: 'presence', type: 'available', show: 'away' }],
    )
    await a.clock.advance(1999)
    assert.equal(a.messenger.sent.length, 1)
    await a.clock.advance(1)
    assert.deepEqual(payloadOf(a.messenger.sent[1]!), { kind: 'presence', type: 'available', show: 'dnd' })
    await a.clock.advance(10_000)
    assert.equal(a.messenger.sent.length, 2)
  })

  it('heartbeats repeat the presence; a silent contact is shown offline', async () => {
    a.xmpp.set('alice', CAROL, 'both')
    c.xmpp.set('carol', ALICE, 'both')
    await a.gateway.route(available('away'), to(CAROL))
    await carry(a, c)
    assert.equal(c.xmpp.injected.length, 1)
    await a.clock.advance(60_000)
    assert.deepEqual(
      a.messenger.sent.map((s) => payloadOf(s)),
      [{ kind: 'presence', type: 'available', show: 'away' }],
    )
    a.messenger.take() // the heartbeat never reaches Carol: Alice's bridge "vanished"
    await c.clock.advance(60_000) // 2 heartbeats silent, fewer than 2.5
    assert.equal(c.xmpp.injected.length, 1)
    await c.clock.advance(60_000)
    assert.equal(
      c.xmpp.injected[1]?.toString(),
      `<presence from="${jidOf(ALICE)}" to="carol@${DOMAIN}" type="unavailable"/>`,
    )
  })

  it('a contact the messenger finds unreachable is shown offline', async () => {
    a.xmpp.set('alice', CAROL, 'both')
    c.xmpp.set('carol', ALICE, 'both')
    await a.gateway.route(available(), to(CAROL))
    await carry(a, c)
    c.messenger.emit('unreachable', { from: CAROL, to: ALICE })
    await settle()
    assert.equal(c.xmpp.injected[1]?.attrs.type, 'unavailable')
    c.messenger.emit('unreachable', { from: CAROL, to: ALICE })
    await settle()
    assert.equal(c.xmpp.injected.length, 2)
  })

  it('becoming mutual exchanges presence afresh (probe + own presence)', async () => {
    a.xmpp.set('alice', CAROL, 'both')
    await a.gateway.route(available('away'), to(CAROL))
    a.messenger.take()
    await a.clock.advance(5000)
    // Carol approves: her 'subscribed' arrives, Alice's roster is now mutual.
    await c.gateway.route(
      parse(`<presence from="carol@${DOMAIN}" to="${jidOf(ALICE)}" type="subscribed"/>`),
      to(ALICE),
    )
    await carry(c, a)
    assert.equal(a.xmpp.injected[0]?.attrs.type, 'subscribed')
    assert.deepEqual(
      a.messenger.take().map((s) => [payloadOf(s), s.reliable]),
      [
        [{ kind: 'presence', type: 'available', show: 'away' }, false],
        [{ kind: 'presence', type: 'probe' }, false],
      ],
    )
  })
})

describe('gateway: strangers', () => {
  beforeEach(() => pair())

  it('holds a stranger’s messages until the user accepts, then shows them with their time', async () => {
    const s = await side('stranger', STRANGER)
    sides.push(s)
    const msg = (body: string) =>
      parse(
        `<message from="stranger@${DOMAIN}/x" to="${jidOf(ALICE)}" type="chat"><body>${body}</body></message>`,
      )
    await s.gateway.route(msg('buy now'), to(ALICE))
    await s.gateway.route(
      parse(
        `<message from="stranger@${DOMAIN}/x" to="${jidOf(ALICE)}" type="chat"><composing xmlns="http://jabber.org/protocol/chatstates"/></message>`,
      ),
      to(ALICE),
    )
    await s.gateway.route(
      parse(
        `<presence from="stranger@${DOMAIN}" to="${jidOf(ALICE)}" type="subscribe"><status>hi, it is me</status></presence>`,
      ),
      to(ALICE),
    )
    const sentAt = a.clock.now() - 1000
    await carry(s, a, sentAt)
    // The request goes through; the message is held; the typing notification is dropped.
    assert.deepEqual(
      a.xmpp.injected.map((x) => x.toString()),
      [
        `<presence from="${jidOf(STRANGER)}" to="alice@${DOMAIN}" type="subscribe"><status>hi, it is me</status></presence>`,
      ],
    )
    assert.deepEqual(await a.gateway.heldRequests('alice'), [
      { from: encodeAddress(STRANGER), timestamp: sentAt, body: 'buy now' },
    ])
    await a.clock.advance(10_000)
    a.xmpp.set('alice', STRANGER, 'from')
    await a.gateway.route(
      parse(`<presence from="alice@${DOMAIN}" to="${jidOf(STRANGER)}" type="subscribed"/>`),
      to(STRANGER),
    )
    const released = a.xmpp.injected[1]!
    assert.equal(released.getChildText('body'), 'buy now')
    assert.equal(released.getChild('delay', 'urn:xmpp:delay')?.attrs.stamp, new Date(sentAt).toISOString())
    assert.deepEqual(await a.gateway.heldRequests('alice'), [])
    // Now a contact: shown at once.
    await s.gateway.route(msg('thanks'), to(ALICE))
    await carry(s, a)
    assert.equal(a.xmpp.injected[2]?.getChildText('body'), 'thanks')
  })

  it('keeps at most heldRequestsPerAccount, dropping the oldest; replies to someone Alice wrote to are shown', async () => {
    const few = await side('alice', ALICE, { heldRequestsPerAccount: 2 })
    const s = await side('stranger', STRANGER)
    sides.push(few, s)
    for (const body of ['1', '2', '3'])
      await s.gateway.route(
        parse(`<message from="stranger@${DOMAIN}/x" to="${jidOf(ALICE)}"><body>${body}</body></message>`),
        to(ALICE),
      )
    await carry(s, few)
    assert.deepEqual(
      (await few.gateway.heldRequests('alice')).map((h) => h.body),
      ['2', '3'],
    )
    // Alice writes to a new address first: its answers are not a stranger's.
    await few.gateway.route(
      fromAlice(`<message to="${jidOf(CAROL)}"><body>hello?</body></message>`),
      to(CAROL),
    )
    await carry(few, c)
    await c.gateway.route(
      parse(`<message from="carol@${DOMAIN}/c" to="${jidOf(ALICE)}"><body>hello!</body></message>`),
      to(ALICE),
    )
    await carry(c, few)
    assert.equal(few.xmpp.injected[0]?.getChildText('body'), 'hello!')
  })

  it('with acceptStrangerMessages, messages are shown at once', async () => {
    const open = await side('alice', ALICE, { acceptStrangerMessages: true })
    sides.push(open)
    await c.gateway.route(
      parse(`<message from="carol@${DOMAIN}/c" to="${jidOf(ALICE)}"><body>hi</body></message>`),
      to(ALICE),
    )
    await carry(c, open)
    assert.equal(open.xmpp.injected.length, 1)
  })
})

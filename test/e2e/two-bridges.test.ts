import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { type Element, createElement as xml } from 'ltx'
import type { Testnet } from '../../bridge/dht/testnet.js'
import { tempDir } from '../store/helpers.js'
import { login, type TestClient, trustCertificate } from '../xmpp/client.js'
import { type BridgeProcess, createIdentity, startBridgeProcess } from './bridge-process.js'
import { startRelayTestnet } from './relay-testnet.js'

const DOMAIN = 'paranoim.localhost'
const PASSWORD = 'correct horse battery'
const RECEIPTS = 'urn:xmpp:receipts'
const MESSAGES = 200
const BIG = 50_000

interface Side {
  nickname: string
  address: string
  dataDir: string
  bridge: BridgeProcess
  client: TestClient
}

/** Logs in (which unlocks the identity on its bridge), answers receipts like a real client would. */
async function connect(side: Omit<Side, 'client'>): Promise<TestClient> {
  trustCertificate(side.bridge.cert, side.bridge.port)
  const client = await login(side.bridge.port, side.nickname, { password: PASSWORD, resource: 'test' }).catch(
    (error: unknown) => {
      throw new Error(`${side.nickname} cannot log in: ${error}\n${side.bridge.logs.slice(-30).join('\n')}`)
    },
  )
  client.xmpp.on('stanza', (stanza: Element) => {
    const id = stanza.attrs.id
    if (stanza.is('message') && stanza.getChild('request', RECEIPTS) && id)
      void client.xmpp.send(
        xml('message', { to: stanza.attrs.from }, xml('received', { xmlns: RECEIPTS, id })),
      )
    if (stanza.is('presence') && stanza.attrs.type === 'subscribe')
      void client.xmpp.send(xml('presence', { to: stanza.attrs.from, type: 'subscribed' }))
  })
  await client.xmpp.send(xml('presence'))
  return client
}

const jidOf = (side: { address: string }) => `${side.address}@${DOMAIN}`
const bodies = (client: TestClient, from: string) =>
  client.stanzas
    .filter((s) => s.is('message') && s.attrs.from?.startsWith(from) && s.getChildText('body') !== null)
    .map((s) => s.getChildText('body')!)

async function until(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

function chat(to: string, body: string, id: string) {
  return xml('message', { to, type: 'chat', id }, xml('body').t(body), xml('request', { xmlns: RECEIPTS }))
}

describe('two bridges on a testnet, an @xmpp/client user on each', () => {
  let testnet: Testnet
  let bootstrap: string
  const sides: Side[] = []

  before(async () => {
    ;({ testnet, bootstrap } = await startRelayTestnet(12))
    const root = await tempDir('paranoim-e2e-')
    for (const nickname of ['alice', 'bob']) {
      const dataDir = join(root, nickname)
      const address = await createIdentity(dataDir, nickname, PASSWORD)
      const bridge = await startBridgeProcess(dataDir, bootstrap)
      const side = { nickname, address, dataDir, bridge }
      sides.push({ ...side, client: await connect(side) })
    }
  })

  after(async () => {
    for (const side of sides) {
      await side.client?.stop()
      await side.bridge?.stop()
    }
    await testnet?.stop()
  })

  it('subscription handshake: a request with its text, approved, presence both ways', async () => {
    const [alice, bob] = sides as [Side, Side]
    await alice.client.xmpp.send(
      xml('presence', { to: jidOf(bob), type: 'subscribe' }, xml('status').t('Hi Bob, it’s Alice')),
    )
    const request = await bob.client.next(
      (s) => s.is('presence') && s.attrs.type === 'subscribe' && s.attrs.from === jidOf(alice),
      120_000,
    )
    assert.equal(request.getChildText('status'), 'Hi Bob, it’s Alice')
    // Bob's client approved (connect()); Bob asks back, Alice's client approves.
    await bob.client.xmpp.send(xml('presence', { to: jidOf(alice), type: 'subscribe' }))
    await alice.client.next((s) => s.is('presence') && s.attrs.type === 'subscribed', 120_000)
    await bob.client.next((s) => s.is('presence') && s.attrs.type === 'subscribed', 120_000)
    await bob.client.next(
      (s) => s.is('presence') && !s.attrs.type && (s.attrs.from ?? '').startsWith(jidOf(alice)),
      120_000,
    )
  })

  it(`${MESSAGES} messages each way with receipts, unicode and ${BIG / 1000} KB bodies: all once, in order`, async () => {
    const [alice, bob] = sides as [Side, Side]
    const text = (who: string, i: number) =>
      i % 50 === 7 ? `${who} ${i} ${'ü€😀'.repeat(BIG / 10)}` : `${who} ${i} — grüße, привет, 你好 😀`
    for (let i = 0; i < MESSAGES; i++) {
      await alice.client.xmpp.send(chat(jidOf(bob), text('alice', i), `a${i}`))
      await bob.client.xmpp.send(chat(jidOf(alice), text('bob', i), `b${i}`))
    }
    await until(`bob has ${MESSAGES}`, () => bodies(bob.client, jidOf(alice)).length >= MESSAGES, 240_000)
    await until(`alice has ${MESSAGES}`, () => bodies(alice.client, jidOf(bob)).length >= MESSAGES, 240_000)
    assert.deepEqual(
      bodies(bob.client, jidOf(alice)),
      Array.from({ length: MESSAGES }, (_, i) => text('alice', i)),
    )
    assert.deepEqual(
      bodies(alice.client, jidOf(bob)),
      Array.from({ length: MESSAGES }, (_, i) => text('bob', i)),
    )
    // Every message's receipt came back, referencing the id the sender's own client chose.
    const receipts = (client: TestClient) =>
      new Set(client.stanzas.flatMap((s) => s.getChild('received', RECEIPTS)?.attrs.id ?? []))
    await until(
      'receipts',
      () => receipts(alice.client).size >= MESSAGES && receipts(bob.client).size >= MESSAGES,
      120_000,
    )
    for (let i = 0; i < MESSAGES; i++) {
      assert.ok(receipts(alice.client).has(`a${i}`), `receipt for a${i}`)
      assert.ok(receipts(bob.client).has(`b${i}`), `receipt for b${i}`)
    }
  })

  it('only allow-listed elements cross: markup, foreign extensions, client ids and attributes are stripped', async () => {
    const [alice, bob] = sides as [Side, Side]
    const stanza = xml('message', {
      to: jidOf(bob),
      type: 'chat',
      id: 'gajim-fingerprint-1',
      'xml:lang': 'fr',
    })
    stanza.c('body').t('stripped?')
    stanza
      .c('html', { xmlns: 'http://jabber.org/protocol/xhtml-im' })
      .c('body', { xmlns: 'http://www.w3.org/1999/xhtml' })
      .t('<b>x</b>')
    stanza.c('x', { xmlns: 'jabber:x:signed' }).t('junk')
    stanza.c('origin-id', { xmlns: 'urn:xmpp:sid:0', id: 'client-fingerprint' })
    stanza.c('active', { xmlns: 'http://jabber.org/protocol/chatstates' })
    await alice.client.xmpp.send(stanza)
    const got = await bob.client.next((s) => s.getChildText('body') === 'stripped?', 120_000)
    // Bob's own server adds its archive id (XEP-0359, by Bob's JID); nothing else beyond what crossed.
    const added = got.getChild('stanza-id', 'urn:xmpp:sid:0')
    assert.equal(added?.attrs.by, `bob@${DOMAIN}`)
    const crossed = got.getChildElements().filter((c) => c !== added)
    assert.deepEqual(
      crossed.map((c) => `${c.name} ${c.attrs.xmlns ?? ''}`.trim()),
      ['body', 'active http://jabber.org/protocol/chatstates'],
    )
    assert.notEqual(got.attrs.id, 'gajim-fingerprint-1')
    assert.equal(got.attrs['xml:lang'], undefined)
  })

  it('kill -9 of the sender’s bridge mid-stream, restart: nothing lost, nothing duplicated', async () => {
    const [alice, bob] = sides as [Side, Side]
    const before = bodies(bob.client, jidOf(alice)).length
    const acked = new Set<string>()
    const failed: Element[] = []
    const sm = alice.client.xmpp.streamManagement
    sm.on('ack', (stanza: Element) => {
      if (stanza.attrs.id) acked.add(stanza.attrs.id)
    })
    sm.on('fail', (stanza: Element) => failed.push(stanza))
    const total = 60
    for (let i = 0; i < total; i++) {
      await alice.client.xmpp.send(chat(jidOf(bob), `crash ${i}`, `c${i}`))
      if (i === 30) await until('some acked', () => acked.size > 10, 30_000)
    }
    await alice.bridge.kill()
    await alice.client.stop()
    const unacked = [...Array(total).keys()].map((i) => `c${i}`).filter((id) => !acked.has(id))
    alice.bridge = await startBridgeProcess(alice.dataDir, bootstrap)
    alice.client = await connect(alice)
    // A real client sends again what the dead stream never acknowledged (same ids).
    for (const id of unacked) await alice.client.xmpp.send(chat(jidOf(bob), `crash ${id.slice(1)}`, id))
    const crashBodies = () => bodies(bob.client, jidOf(alice)).slice(before)
    await until(`bob has all ${total}`, () => crashBodies().length >= total, 240_000)
    await new Promise((resolve) => setTimeout(resolve, 3000)) // late duplicates would show up here
    assert.deepEqual(
      crashBodies(),
      Array.from({ length: total }, (_, i) => `crash ${i}`),
    )
  })
})

import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { createElement as xml } from 'ltx'
import { z } from 'zod'
import { XMPPError } from '../../bridge/xmpp/errors.js'
import { type ModuleContext, SessionKey, type XmppModule } from '../../bridge/xmpp/module.js'
import { startServer, type TestServer } from './harness.js'
import { RawClient } from './raw-client.js'

const NS = 'urn:example:test'
const seen: string[] = []
let context: ModuleContext | undefined
const COUNTER = new SessionKey<number>('counter')

/** A module using every part of the API, as an extension module would. */
const testModule: XmppModule = {
  name: 'test',
  features: [NS, 'urn:xmpp:ping'],
  accountFeatures: [`${NS}#account`],
  accountIdentities: [{ category: 'pubsub', type: 'pep' }],
  streamFeatures: () => [xml('test', { xmlns: NS })],
  setup(ctx) {
    context = ctx
    ctx.advertise({
      accountFeatures: [`${NS}#${ctx.config.domain}`],
      streamFeatures: () => [xml('advertised', { xmlns: NS })],
    })
    const notes = ctx.table('notes', z.object({ text: z.string() }))
    ctx.iq({ type: 'get', name: 'crash', xmlns: NS }, () => {
      throw new Error('bug')
    })
    ctx.iq({ type: 'get', name: 'refuse', xmlns: NS }, () => {
      throw new XMPPError('not-allowed', 'no')
    })
    ctx.iq({ type: 'set', name: 'note', xmlns: NS, on: ['account'] }, async (req) => {
      const text = req.payload.getText()
      if (text === '') throw new XMPPError('bad-request', 'empty note')
      await notes.put(req.account!, { text })
      return undefined
    })
    ctx.iq({ type: 'get', name: 'note', xmlns: NS, on: ['account'] }, async (req) => {
      const note = await notes.get(req.account!)
      if (!note) throw new XMPPError('item-not-found')
      return xml('note', { xmlns: NS }, note.text)
    })
    ctx.iq({ type: 'get', name: 'disco', xmlns: NS }, () => {
      const { features, identities } = ctx.disco('account')
      return xml('disco', {
        xmlns: NS,
        features: features.join(' '),
        identities: identities.map((i) => i.type).join(' '),
      })
    })
    ctx.nonza('poke', NS, (session) => {
      session.set(COUNTER, (session.get(COUNTER) ?? 0) + 1)
      session.send(
        xml(
          'message',
          { from: ctx.domain, to: session.jid.toString() },
          xml('body', {}, `poked ${session.get(COUNTER)}`),
        ),
      )
    })
    ctx.hook('outbound', (event) => {
      if (event.kind === 'message' && event.stanza.getChildText('body') === 'forbidden') {
        throw new XMPPError('policy-violation', 'not that word')
      }
      return undefined
    })
    ctx.hook('inbound', (event) => {
      if (event.stanza.attrs.type === 'probe') {
        seen.push(`probe:${event.from.bareString}>${event.account}:${event.targets.length}`)
        if (event.from.local === 'bob') return 'handled'
      }
      if (event.kind === 'message') event.stanza.cnode(xml('stamped', { xmlns: NS }))
      if (event.stanza.getChildText('body') === 'swallow') return 'handled'
      return undefined
    })
    ctx.hook(
      'inbound',
      (event) => {
        if (event.kind === 'message')
          seen.push(`late:${event.stanza.getChild('stamped') ? 'after' : 'before'}`)
        return undefined
      },
      { priority: -10 },
    )
    ctx.on('session-started', (session) => seen.push(`started:${session.resource}`))
    ctx.on('session-ended', (session) => seen.push(`ended:${session.resource}`))
    ctx.on('authenticated', (event) => seen.push(`auth:${event.account}:${event.clientKey.length}`))
  },
}

let t: TestServer
before(async () => {
  t = await startServer({ accounts: ['alice', 'bob', 'carol'], modules: [testModule] })
})
after(() => t.stop())

async function client(user: string, resource: string): Promise<RawClient> {
  const c = await RawClient.connect(t.starttlsPort)
  await c.login(t.cert, user, resource)
  c.send('<presence/>')
  await c.next((el) => el.name === 'presence')
  return c
}

const errorOf = (el: { getChild(n: string): { getChildElements(): { name: string }[] } | undefined }) =>
  el.getChild('error')?.getChildElements()[0]?.name

test('IQ handlers: crash → internal-server-error, XMPPError passes through, storage round-trips', async () => {
  const alice = await client('alice', 'a')
  alice.send(`<iq type='get' id='c' to='paranoim.localhost'><crash xmlns='${NS}'/></iq>`)
  assert.equal(errorOf(await alice.next((el) => el.attrs.id === 'c')), 'internal-server-error')
  alice.send(`<iq type='get' id='r' to='paranoim.localhost'><refuse xmlns='${NS}'/></iq>`)
  const refused = await alice.next((el) => el.attrs.id === 'r')
  assert.equal(errorOf(refused), 'not-allowed')
  assert.equal(refused.getChild('error')!.getChildText('text'), 'no')
  alice.send(`<iq type='set' id='s0'><note xmlns='${NS}'></note></iq>`)
  assert.equal(errorOf(await alice.next((el) => el.attrs.id === 's0')), 'bad-request')
  alice.send(`<iq type='set' id='s1'><note xmlns='${NS}'>remember</note></iq>`)
  assert.equal((await alice.next((el) => el.attrs.id === 's1')).attrs.type, 'result')
  alice.send(`<iq type='get' id='g1' to='alice@paranoim.localhost'><note xmlns='${NS}'/></iq>`)
  assert.equal((await alice.next((el) => el.attrs.id === 'g1')).getChildText('note'), 'remember')
  alice.send(`<iq type='get' id='g2' to='bob@paranoim.localhost'><note xmlns='${NS}'/></iq>`)
  assert.equal(errorOf(await alice.next((el) => el.attrs.id === 'g2')), 'item-not-found')
  alice.send(`<iq type='set' id='g3' to='paranoim.localhost'><note xmlns='${NS}'>x</note></iq>`)
  assert.equal(
    errorOf(await alice.next((el) => el.attrs.id === 'g3')),
    'service-unavailable',
    'registered for accounts only',
  )
  alice.close()
})

test('disco reflects exactly the loaded modules and what they advertise; stream features include the module’s', async () => {
  assert.deepEqual(context!.disco('server').features, ['urn:example:test', 'urn:xmpp:ping'])
  const alice = await client('alice', 'd')
  alice.send(`<iq type='get' id='d' to='paranoim.localhost'><disco xmlns='${NS}'/></iq>`)
  const disco = (await alice.next((el) => el.attrs.id === 'd')).getChild('disco')!
  assert.equal(disco.attrs.features, `${NS}#account ${NS}#paranoim.localhost`)
  assert.equal(disco.attrs.identities, 'pep')
  alice.close()
  const raw = await RawClient.connect(t.starttlsPort)
  await raw.open()
  await raw.starttls(t.cert)
  await raw.authenticate('SCRAM-SHA-256', 'alice', (await import('./harness.js')).PASSWORD)
  const features = await raw.open()
  assert.ok(features.getChild('test', NS))
  assert.ok(features.getChild('advertised', NS))
  raw.close()
})

test('hooks: outbound can bounce, inbound can modify or swallow, priorities order them; nonzas and events', async () => {
  const alice = await client('alice', 'h')
  const bob = await client('bob', 'h')
  alice.send(`<message id='f' to='bob@paranoim.localhost/h'><body>forbidden</body></message>`)
  assert.equal(errorOf(await alice.next((el) => el.attrs.id === 'f')), 'policy-violation')
  alice.send(`<message id='s' to='bob@paranoim.localhost/h'><body>swallow</body></message>`)
  alice.send(`<message id='ok' to='bob@paranoim.localhost/h'><body>fine</body></message>`)
  const got = await bob.next((el) => el.name === 'message')
  assert.equal(got.attrs.id, 'ok', 'the swallowed one never arrives, the next does')
  assert.ok(got.getChild('stamped', NS))
  assert.ok(seen.includes('late:after'), 'the low-priority hook ran after the stamping one')
  alice.send(`<poke xmlns='${NS}'/><poke xmlns='${NS}'/>`)
  assert.equal(
    (await alice.next((el) => el.getChildText('body') === 'poked 2')).attrs.from,
    'paranoim.localhost',
  )
  assert.ok(seen.includes('started:h'))
  assert.ok(
    seen.some((s) => /^auth:alice:32$/.test(s)),
    'ClientKey (32 bytes for SHA-256) is handed to listeners',
  )
  alice.close()
  await alice.closed
  for (let i = 0; i < 50 && !seen.includes('ended:h'); i++) await new Promise((r) => setTimeout(r, 20))
  assert.ok(seen.includes('ended:h'))
  bob.close()
})

test('presence probes pass the inbound hooks, which may leave them unanswered', async () => {
  const alice = await client('alice', 'p')
  const bob = await client('bob', 'p')
  // Bob subscribes to Alice's presence (pre-approved), so each of his new sessions probes her.
  alice.send(`<presence type='subscribed' to='bob@paranoim.localhost'/>`)
  bob.send(`<presence type='subscribe' to='alice@paranoim.localhost'/>`)
  await bob.next((el) => el.name === 'presence' && el.attrs.type === 'subscribed')
  const carol = await client('carol', 'p')
  carol.send(`<presence type='subscribe' to='alice@paranoim.localhost'/>`)
  alice.send(`<presence type='subscribed' to='carol@paranoim.localhost'/>`)
  await carol.next((el) => el.name === 'presence' && el.attrs.from === 'alice@paranoim.localhost/p')

  const fromAlice = (el: { name: string; attrs: Record<string, string | undefined> }) =>
    el.name === 'presence' && el.attrs.from === 'alice@paranoim.localhost/p'
  const carol2 = await client('carol', 'p2')
  await carol2.next(fromAlice) // the probe's answer
  assert.ok(
    seen.includes('probe:carol@paranoim.localhost>alice:0'),
    'the hook saw the probe, with no targets',
  )
  const bob2 = await client('bob', 'p2')
  await assert.rejects(bob2.next(fromAlice, 500), 'a probe the hook handled is not answered')
  assert.ok(seen.includes('probe:bob@paranoim.localhost>alice:0'))
  for (const c of [alice, bob, carol, carol2, bob2]) c.close()
})

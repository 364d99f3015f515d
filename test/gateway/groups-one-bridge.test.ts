import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { type Element, createElement as xml } from 'ltx'
import { loadConfig } from '../../bridge/config/load.js'
import { defaultConfig } from '../../bridge/config/schema.js'
import { silentLogger } from '../../bridge/log.js'
import { GroupSession } from '../../bridge/messaging/groups/session.js'
import { type Bridge, createBridge } from '../../bridge/service/bridge.js'
import { openStore, type Store } from '../../bridge/store/index.js'
import { tempDir } from '../store/helpers.js'
import { login, type TestClient, trustCertificate } from '../xmpp/client.js'
import { DOMAIN } from './helpers.js'

const PASSWORD = 'correct horse battery'
const MUC = 'http://jabber.org/protocol/muc'
const ROOM = `team@conference.${DOMAIN}`

/** A network room whose members are two accounts of one bridge (network off: the messenger hands bodies over locally). */
describe('group room with two members on one bridge', () => {
  let store: Store
  let bridge: Bridge
  const clients: Record<string, TestClient> = {}

  before(async () => {
    const dataDir = await tempDir('paranoim-groups-local-')
    const config = loadConfig({
      overrides: {
        store: { dataDir },
        identity: { kdf: { logN: 10 } },
        xmpp: { port: 0, tlsPort: 0 },
        net: { enabled: false },
        groups: { orderHoldMs: 0 },
        log: { level: 'silent' },
      },
    })
    store = await openStore({ dataDir })
    bridge = createBridge(config, { log: silentLogger, store })
    await bridge.start()
    const port = bridge.status().xmpp!.port
    trustCertificate(await readFile(join(dataDir, 'tls', `${DOMAIN}.crt`), 'utf8'), port)
    for (const name of ['alice', 'bob', 'carol']) {
      await bridge.identities.create(name, PASSWORD)
      clients[name] = await login(port, name, { password: PASSWORD, resource: 'test' })
      await clients[name].xmpp.send(xml('presence'))
    }
  })

  after(async () => {
    for (const client of Object.values(clients)) await client.stop()
    await bridge?.stop()
    await store?.close()
  })

  it('shows every event once: one invitation, one presence per join, each message once', async () => {
    const alice = clients.alice!
    const bob = clients.bob!
    await alice.xmpp.send(xml('presence', { to: `${ROOM}/Alice` }, xml('x', { xmlns: MUC })))
    await alice.next((s) => s.is('presence') && s.attrs.from === `${ROOM}/Alice`)
    await alice.xmpp.send(
      xml(
        'message',
        { to: ROOM },
        xml('x', { xmlns: `${MUC}#user` }, xml('invite', { to: `bob@${DOMAIN}` })),
      ),
    )
    await bob.next((s) => s.is('message') && !!s.getChild('x', `${MUC}#user`)?.getChild('invite'))
    await bob.xmpp.send(xml('presence', { to: `${ROOM}/Bob` }, xml('x', { xmlns: MUC })))
    await alice.next((s) => s.is('presence') && s.attrs.from === `${ROOM}/Bob`)
    await bob.xmpp.send(xml('message', { to: ROOM, type: 'groupchat' }, xml('body', {}, 'hi from bob')))
    await alice.next((s) => s.getChildText('body') === 'hi from bob')
    await new Promise((resolve) => setTimeout(resolve, 500))
    const count = (client: TestClient, match: (s: Element) => boolean) => client.stanzas.filter(match).length
    assert.equal(
      count(bob, (s) => s.is('message') && !!s.getChild('x', `${MUC}#user`)?.getChild('invite')),
      0,
      'no second invitation',
    )
    assert.equal(
      count(alice, (s) => s.is('presence') && s.attrs.from === `${ROOM}/Bob`),
      0,
      'one join',
    )
    assert.equal(
      count(alice, (s) => s.getChildText('body') === 'hi from bob'),
      0,
      'one message',
    )
  })

  it("a local invitee declines: the inviter gets the room's decline once, and the invitee is no member any more", async () => {
    const alice = clients.alice!
    const carol = clients.carol!
    const carolKey = (await bridge.identities.open('carol', PASSWORD)).publicKey
    const members = async () => {
      const local = await bridge.identities.open('alice', PASSWORD)
      const [group] = await GroupSession.groupsOf(store, local.publicKey)
      const { groups, messaging } = defaultConfig()
      const session = await GroupSession.load({
        store,
        local,
        group: group!,
        config: groups,
        maxMessageBytes: messaging.maxMessageBytes,
      })
      return session.state!.members.has(Buffer.from(carolKey).toString('hex'))
    }
    await alice.xmpp.send(
      xml(
        'message',
        { to: ROOM },
        xml('x', { xmlns: `${MUC}#user` }, xml('invite', { to: `carol@${DOMAIN}` })),
      ),
    )
    await carol.next((s) => s.is('message') && !!s.getChild('x', `${MUC}#user`)?.getChild('invite'))
    assert.equal(await members(), true, 'carol is a member once invited')
    await carol.xmpp.send(
      xml(
        'message',
        { to: ROOM },
        xml(
          'x',
          { xmlns: `${MUC}#user` },
          xml('decline', { to: `alice@${DOMAIN}` }, xml('reason', {}, 'busy')),
        ),
      ),
    )
    const declined = await alice.next((s) => !!s.getChild('x', `${MUC}#user`)?.getChild('decline'))
    assert.equal(declined.getChild('x', `${MUC}#user`)!.getChild('decline')!.getChildText('reason'), 'busy')
    for (let i = 0; i < 50 && (await members()); i++) await new Promise((resolve) => setTimeout(resolve, 50))
    assert.equal(await members(), false, 'carol removed by the inviter')
    assert.deepEqual(await GroupSession.groupsOf(store, carolKey), [], "and forgotten by carol's side")
    await new Promise((resolve) => setTimeout(resolve, 300))
    assert.equal(
      alice.stanzas.filter((s) => !!s.getChild('x', `${MUC}#user`)?.getChild('decline')).length,
      0,
      'one decline shown',
    )
  })
})

import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { type Element, createElement as xml } from 'ltx'
import { validateConfig } from '../../bridge/config/load.js'
import { encodeAddress } from '../../bridge/crypto/address.js'
import { generateIdentity } from '../../bridge/crypto/identity.js'
import { silentLogger } from '../../bridge/log.js'
import { type Bridge, createBridge } from '../../bridge/service/bridge.js'
import { bindingRosterNames } from '../../bridge/service/roster-names.js'
import { openStore, type Store } from '../../bridge/store/index.js'
import { JID } from '../../bridge/xmpp/jid.js'
import { login, type TestClient, trustCertificate } from '../xmpp/client.js'
import { PASSWORD } from '../xmpp/harness.js'

const ROSTER = 'jabber:iq:roster'
type Attrs = Element['attrs']
const jidOf = (address: string) => `${address}@paranoim.localhost`

let dataDir: string
let store: Store
let bridge: Bridge
let owner: string
let client: TestClient

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'paranoim-roster-names-'))
  const config = validateConfig({
    store: { dataDir },
    identity: { kdf: { logN: 10 } },
    xmpp: { port: 0, tlsPort: 0 },
    log: { level: 'silent' },
  })
  store = await openStore({ dataDir })
  bridge = createBridge(config, { log: silentLogger, store })
  await bridge.start()
  owner = (await bridge.identities.create('alice', PASSWORD)).address
  trustCertificate(await readFile(join(dataDir, 'tls', 'paranoim.localhost.crt'), 'utf8'))
  client = await login(bridge.status().xmpp!.port, 'alice')
})

after(async () => {
  await client?.stop()
  await bridge?.stop()
  await store?.close()
  await rm(dataDir, { recursive: true, force: true })
})

async function rosterItems(): Promise<Attrs[]> {
  const result = await client.xmpp.iqCaller.request(
    xml('iq', { type: 'get' }, xml('query', { xmlns: ROSTER })),
  )
  return result
    .getChild('query')!
    .getChildren('item')
    .map((item) => item.attrs)
}

async function rosterSet(item: Record<string, string>): Promise<void> {
  await client.xmpp.iqCaller.request(
    xml('iq', { type: 'set' }, xml('query', { xmlns: ROSTER }, xml('item', item))),
  )
}

/** The next roster push: its version and its item's attributes. */
async function nextPush(jid: string): Promise<{ ver: number; item: Attrs }> {
  const push = await client.next(
    (el: Element) =>
      el.name === 'iq' &&
      el.attrs.type === 'set' &&
      el.getChild('query', ROSTER)?.getChild('item')?.attrs.jid === jid,
  )
  const query = push.getChild('query')!
  return { ver: Number(query.attrs.ver), item: query.getChild('item')!.attrs }
}

test('bindings name roster items: add, rename and remove are pushed; a name set in the client wins', async () => {
  assert.deepEqual(await rosterItems(), [])
  const bob = jidOf(encodeAddress(generateIdentity().publicKey))
  const carolAddress = encodeAddress(generateIdentity().publicKey)
  const carol = jidOf(carolAddress)

  // A binding is a name, not a contact: no roster item appears; an item added later carries the name.
  await bridge.bindings.add(owner, 'Carol', carolAddress)
  assert.deepEqual(await rosterItems(), [])
  await rosterSet({ jid: carol })
  assert.deepEqual((await nextPush(carol)).item, { jid: carol, name: 'Carol', subscription: 'none' })

  await rosterSet({ jid: bob })
  const added = await nextPush(bob)
  assert.deepEqual(added.item, { jid: bob, subscription: 'none' })

  await bridge.bindings.add(owner, 'Bob', bob.split('@')[0]!)
  const named = await nextPush(bob)
  assert.deepEqual(named.item, { jid: bob, name: 'Bob', subscription: 'none' })
  assert.ok(named.ver > added.ver, 'XEP-0237: the version moves on')
  assert.deepEqual(
    await rosterItems(),
    [
      { jid: bob, name: 'Bob', subscription: 'none' },
      { jid: carol, name: 'Carol', subscription: 'none' },
    ].sort((a, b) => a.jid.localeCompare(b.jid)),
  )

  await bridge.bindings.rename(owner, 'Bob', 'Robert')
  assert.deepEqual((await nextPush(bob)).item, { jid: bob, name: 'Robert', subscription: 'none' })

  // A client echoing the bound name (changing groups) does not pin it; its own name does.
  await rosterSet({ jid: bob, name: 'Robert' })
  await bridge.bindings.rename(owner, 'Robert', 'Bobby')
  assert.deepEqual((await nextPush(bob)).item, { jid: bob, name: 'Bobby', subscription: 'none' })
  await rosterSet({ jid: bob, name: 'My Bob' })
  assert.deepEqual((await nextPush(bob)).item, { jid: bob, name: 'My Bob', subscription: 'none' })
  await bridge.bindings.rename(owner, 'Bobby', 'Bob')
  await bridge.bindings.remove(owner, 'Carol')
  assert.deepEqual((await nextPush(carol)).item, { jid: carol, subscription: 'none' })
  assert.deepEqual(
    (await rosterItems()).find((item) => item.jid === bob),
    { jid: bob, name: 'My Bob', subscription: 'none' },
  )
})

test("only <address>@<xmpp domain> contacts get a name, from their account's own bindings", async () => {
  const address = encodeAddress(generateIdentity().publicKey)
  await bridge.bindings.add(owner, 'Dave', address)
  const names = bindingRosterNames(bridge.identities, bridge.bindings, 'paranoim.localhost')
  assert.equal(await names.nameFor('alice', JID.parse(jidOf(address))), 'Dave')
  assert.equal(await names.nameFor('alice', JID.parse(`${address}@elsewhere.example`)), undefined)
  assert.equal(await names.nameFor('alice', JID.parse('dave@paranoim.localhost')), undefined)
  assert.equal(await names.nameFor('nobody', JID.parse(jidOf(address))), undefined)
})

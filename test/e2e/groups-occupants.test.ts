import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { createElement as xml } from 'ltx'
import type { Testnet } from '../../bridge/dht/testnet.js'
import { STALE_STATUS } from '../../bridge/gateway/groups/stale-occupants.js'
import type { Bridge } from '../../bridge/service/bridge.js'
import type { Store } from '../../bridge/store/index.js'
import { tempDir } from '../store/helpers.js'
import { type TestClient, trustCertificate } from '../xmpp/client.js'
import { type BridgeProcess, createIdentity, startBridgeProcess } from './bridge-process.js'
import {
  DOMAIN,
  loginAs,
  MUC,
  MUC_USER,
  PASSWORD,
  SERVICE,
  startBridgeWith,
  until,
  WAIT,
} from './groups-helpers.js'
import { startRelayTestnet } from './relay-testnet.js'

/** Short enough for a test, long enough that a busy machine's slow ack is not taken for a crash. */
const UNREACHABLE_MS = 3000
const STALE_MS = 2000
const OVERRIDES = {
  messaging: { unreachableAfterMs: UNREACHABLE_MS },
  groups: { staleOccupantMs: STALE_MS, occupantPresenceIntervalMs: 500, orderHoldMs: 200 },
}

interface Side {
  nick: string
  address: string
  client: TestClient
  /** The room's JID as this side's bridge names it. */
  room: string
  /** In this process (alice, bob), or its own process (carol: killed mid-test, as a crash). */
  bridge?: Bridge
  store?: Store
  process?: BridgeProcess
}

async function startInProcess(root: string, nickname: string, bootstrap: string): Promise<Side> {
  const { store, bridge, accounts } = await startBridgeWith(root, [nickname], bootstrap, OVERRIDES)
  return { ...accounts[0]!, bridge, store, room: '' }
}

async function startProcess(root: string, nickname: string, bootstrap: string): Promise<Side> {
  const dataDir = join(root, nickname)
  const address = await createIdentity(dataDir, nickname, PASSWORD)
  const process = await startBridgeProcess(dataDir, bootstrap, [
    `messaging.unreachableAfterMs=${UNREACHABLE_MS}`,
    'groups.orderHoldMs=200',
  ])
  trustCertificate(process.cert, process.port)
  return { ...(await loginAs(nickname, process.port)), address, process, room: '' }
}

/** The room presences of `occupant` that `viewer` got: type, show, status. */
function presencesOf(viewer: Side, occupant: Side) {
  return viewer.client.stanzas
    .filter((s) => s.is('presence') && s.attrs.from === `${viewer.room}/${occupant.nick}`)
    .map((s) => ({
      type: s.attrs.type ?? 'available',
      show: s.getChildText('show') ?? undefined,
      status: s.getChildText('status') ?? undefined,
    }))
}

/** Private messages (§7.5) from `from` that `viewer` got, marked as MUC ones. */
function privateMessages(viewer: Side, from: Side): string[] {
  return viewer.client.stanzas
    .filter(
      (s) =>
        s.is('message') &&
        s.attrs.type === 'chat' &&
        s.attrs.from === `${viewer.room}/${from.nick}` &&
        s.getChild('x', MUC_USER) !== undefined,
    )
    .map((s) => s.getChildText('body') ?? '')
}

const enter = (side: Side) =>
  side.client.xmpp.send(xml('presence', { to: `${side.room}/${side.nick}` }, xml('x', { xmlns: MUC })))
const say = (side: Side, text: string) =>
  side.client.xmpp.send(xml('message', { to: side.room, type: 'groupchat' }, xml('body', {}, text)))

describe('group occupants across three bridges: presence, private messages, a crashed bridge', () => {
  let testnet: Testnet
  let alice: Side
  let bob: Side
  let carol: Side

  before(async () => {
    const net = await startRelayTestnet(10)
    testnet = net.testnet
    const root = await tempDir('paranoim-occupants-')
    ;[alice, bob, carol] = await Promise.all([
      startInProcess(root, 'alice', net.bootstrap),
      startInProcess(root, 'bob', net.bootstrap),
      startProcess(root, 'carol', net.bootstrap),
    ])
    // Alice makes an instant room (§10.1.2) and invites bob and carol; all three come in.
    alice.room = `team@${SERVICE}`
    await enter(alice)
    await until('alice in the room', () => presencesOf(alice, alice).length > 0)
    await alice.client.xmpp.iqCaller.request(
      xml(
        'iq',
        { type: 'set', to: alice.room },
        xml('query', { xmlns: `${MUC}#owner` }, xml('x', { xmlns: 'jabber:x:data', type: 'submit' })),
      ),
    )
    for (const invitee of [bob, carol]) {
      await alice.client.xmpp.send(
        xml(
          'message',
          { to: alice.room },
          xml('x', { xmlns: MUC_USER }, xml('invite', { to: `${invitee.address}@${DOMAIN}` })),
        ),
      )
      const invite = await invitee.client.next(
        (s) => s.is('message') && (s.attrs.from ?? '').endsWith(`@${SERVICE}`) && !!s.getChild('x', MUC_USER),
        WAIT,
      )
      invitee.room = invite.attrs.from!
    }
    await enter(bob)
    await enter(carol)
    for (const viewer of [alice, bob, carol])
      for (const occupant of [alice, bob, carol])
        await until(`${viewer.nick} sees ${occupant.nick} in`, () =>
          presencesOf(viewer, occupant).some((p) => p.type === 'available'),
        )
  })

  after(async () => {
    for (const side of [alice, bob, carol]) {
      await side?.client.stop().catch(() => {})
      await side?.bridge?.stop()
      await side?.store?.close()
      await side?.process?.stop()
    }
    await testnet?.stop()
  })

  it("bob goes away for lunch: alice and carol see it on bob's occupant presence", async () => {
    await bob.client.xmpp.send(
      xml('presence', { to: `${bob.room}/${bob.nick}` }, xml('show', {}, 'away'), xml('status', {}, 'lunch')),
    )
    for (const viewer of [alice, carol])
      await until(`${viewer.nick} sees bob away`, () =>
        presencesOf(viewer, bob).some(
          (p) => p.type === 'available' && p.show === 'away' && p.status === 'lunch',
        ),
      )
  })

  it('alice and bob exchange private messages through the room; one to an unknown nick is item-not-found', async () => {
    await alice.client.xmpp.send(
      xml('message', { to: `${alice.room}/${bob.nick}`, type: 'chat' }, xml('body', {}, 'lunch where?')),
    )
    await until('bob has alice’s private message', () => privateMessages(bob, alice).includes('lunch where?'))
    await bob.client.xmpp.send(
      xml('message', { to: `${bob.room}/${alice.nick}`, type: 'chat' }, xml('body', {}, 'the usual')),
    )
    await until('alice has bob’s answer', () => privateMessages(alice, bob).includes('the usual'))
    assert.deepEqual(privateMessages(carol, alice), [], 'carol got nothing of it')
    await alice.client.xmpp.send(
      xml('message', { to: `${alice.room}/Nobody`, type: 'chat', id: 'pm-nobody' }, xml('body', {}, '?')),
    )
    const error = await alice.client.next((s) => s.is('message') && s.attrs.id === 'pm-nobody', WAIT)
    assert.equal(error.attrs.type, 'error')
    assert.ok(error.getChild('error')?.getChild('item-not-found'))
  })

  it("carol's bridge crashes: after the configured time alice and bob see her leave, bridge unreachable", async () => {
    await carol.process!.kill()
    const killed = Date.now()
    // What they send to carol goes unacknowledged: the messenger reports her unreachable.
    await say(alice, 'anyone there?')
    await say(bob, 'carol?')
    for (const viewer of [alice, bob])
      await until(
        `${viewer.nick} sees carol leave`,
        () => presencesOf(viewer, carol).some((p) => p.type === 'unavailable' && p.status === STALE_STATUS),
        WAIT,
      )
    assert.ok(Date.now() - killed >= UNREACHABLE_MS + STALE_MS, 'not before the configured time')
    assert.equal(presencesOf(alice, bob).at(-1)?.type, 'available', 'bob, who answers, stays in')
  })
})

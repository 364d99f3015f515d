import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { type Element, createElement as xml } from 'ltx'
import { encodeAddress, parseAddress } from '../../bridge/crypto/address.js'
import { generateIdentity } from '../../bridge/crypto/identity.js'
import type { Testnet } from '../../bridge/dht/testnet.js'
import { GroupSession } from '../../bridge/messaging/groups/session.js'
import type { Bridge } from '../../bridge/service/bridge.js'
import type { Store } from '../../bridge/store/index.js'
import { tempDir } from '../store/helpers.js'
import {
  type Account,
  configureRoom,
  DOMAIN,
  MUC,
  MUC_USER,
  SERVICE,
  startBridgeWith,
  until,
  WAIT,
} from './groups-helpers.js'
import { startRelayTestnet } from './relay-testnet.js'

/**
 * Open rooms (docs/groups.md "Open rooms"): a room that is not members-only
 * is joined by anyone who knows its address, with no invitation — the
 * stranger's bridge finds the room's record in the DHT, asks an owner's
 * bridge, and is signed in by it. Three in-process bridges on a 10-relay
 * testnet: alice's owns the room; carol's (carol, erin) has never heard of it; bob's holds
 * bob (banned before he ever came) and dave (who comes once it is members-only).
 */
interface Side {
  store: Store
  bridge: Bridge
  accounts: Account[]
}

/** Enters `room` and resolves to 'in' (self-presence, status 110) or the error condition of the refusal. */
async function enter(who: Account, room: string): Promise<string> {
  const from = `${room}/${who.nick}`
  await who.client.xmpp.send(xml('presence', { to: from }, xml('x', { xmlns: MUC })))
  const answer = await who.client.next(
    (s) =>
      s.is('presence') &&
      s.attrs.from === from &&
      (s.attrs.type === 'error' ||
        !!s
          .getChild('x', MUC_USER)
          ?.getChildren('status')
          .some((c: Element) => c.attrs.code === '110')),
    WAIT + 5_000,
  )
  if (answer.attrs.type !== 'error') return 'in'
  return answer.getChild('error')?.children.find((c): c is Element => typeof c !== 'string')?.name ?? '?'
}

function groupchat(viewer: Account, room: string, from: Account): string[] {
  return viewer.client.stanzas
    .filter(
      (s) =>
        s.is('message') &&
        s.attrs.type === 'groupchat' &&
        s.attrs.from === `${room}/${from.nick}` &&
        s.getChildText('body') !== null,
    )
    .map((s) => s.getChildText('body')!)
}

const configure = (owner: Account, room: string, membersOnly: boolean) =>
  configureRoom(owner.client, room, {
    'muc#roomconfig_roomname': 'Open door',
    'muc#roomconfig_membersonly': membersOnly ? '1' : '0',
  })

describe('open rooms: joined by address, with no invitation, across three bridges', () => {
  let testnet: Testnet
  let sides: Side[]
  let alice: Account
  let bob: Account
  let carol: Account
  let dave: Account
  let erin: Account
  /** The room as every bridge but alice's names it: the group address. */
  let room: string

  before(async () => {
    const net = await startRelayTestnet(10)
    testnet = net.testnet
    const root = await tempDir('paranoim-open-join-')
    sides = await Promise.all(
      [['alice'], ['carol', 'erin'], ['bob', 'dave']].map((names) =>
        startBridgeWith(root, names, net.bootstrap),
      ),
    )
    ;[alice, carol, erin, bob, dave] = sides.flatMap((side) => side.accounts) as [
      Account,
      Account,
      Account,
      Account,
      Account,
    ]
  })

  after(async () => {
    for (const side of sides ?? []) {
      for (const account of side.accounts) await account.client.stop()
      await side.bridge.stop()
      await side.store.close()
    }
    await testnet?.stop()
  })

  it('a room no one published: item-not-found', async () => {
    const nowhere = `${encodeAddress(generateIdentity().publicKey).toLowerCase()}@${SERVICE}`
    assert.equal(await enter(carol, nowhere), 'item-not-found')
  })

  it('alice opens a room; carol, who knows only its address, joins; messages flow both ways', async () => {
    const local = `door@${SERVICE}`
    assert.equal(await enter(alice, local), 'in')
    await configure(alice, local, false)
    const [group] = await GroupSession.groupsOf(sides[0]!.store, parseAddress(alice.address))
    room = `${encodeAddress(group!).toLowerCase()}@${SERVICE}`
    // The record goes out in the background after the room's creation: until then the room is not found.
    let result = await enter(carol, room)
    for (let tries = 0; result === 'item-not-found' && tries < 20; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 500))
      result = await enter(carol, room)
    }
    assert.equal(result, 'in')
    await until('alice sees carol come in', () =>
      alice.client.stanzas.some(
        (s) => s.is('presence') && s.attrs.from === `${local}/${carol.nick}` && s.attrs.type === undefined,
      ),
    )
    await until('carol sees alice in the room', () =>
      carol.client.stanzas.some(
        (s) => s.is('presence') && s.attrs.from === `${room}/${alice.nick}` && s.attrs.type === undefined,
      ),
    )
    await carol.client.xmpp.send(
      xml('message', { to: room, type: 'groupchat' }, xml('body', {}, 'hello from carol')),
    )
    await alice.client.xmpp.send(
      xml('message', { to: local, type: 'groupchat' }, xml('body', {}, 'welcome, carol')),
    )
    await until("alice has carol's message", () =>
      groupchat(alice, local, carol).includes('hello from carol'),
    )
    await until("carol has alice's message", () => groupchat(carol, room, alice).includes('welcome, carol'))
    // No invitation was shown to carol: she asked to come in.
    assert.ok(
      !carol.client.stanzas.some((s) => s.is('message') && s.getChild('x', MUC_USER)?.getChild('invite')),
    )
  })

  it("erin, a second account of carol's bridge (where the room is now), is let in the same way", async () => {
    assert.equal(await enter(erin, room), 'in')
    await until('alice sees erin come in', () =>
      alice.client.stanzas.some(
        (s) =>
          s.is('presence') && s.attrs.from === `door@${SERVICE}/${erin.nick}` && s.attrs.type === undefined,
      ),
    )
  })

  it('bob, banned before he ever came, is refused forbidden', async () => {
    await alice.client.xmpp.iqCaller.request(
      xml(
        'iq',
        { type: 'set', to: `door@${SERVICE}` },
        xml(
          'query',
          { xmlns: `${MUC}#admin` },
          xml('item', { affiliation: 'outcast', jid: `${bob.address.toLowerCase()}@${DOMAIN}` }),
        ),
      ),
    )
    assert.equal(await enter(bob, room), 'forbidden')
  })

  it('once members-only, dave (another account of that bridge) is refused registration-required', async () => {
    await configure(alice, `door@${SERVICE}`, true)
    // The record was withdrawn, but what is out lives its lifetime: alice's bridge answers it.
    assert.equal(await enter(dave, room), 'registration-required')
  })
})

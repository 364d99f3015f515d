import assert from 'node:assert/strict'
import { beforeEach, describe, it } from 'node:test'
import { createElement as xml } from 'ltx'
import { encodeAddress } from '../../bridge/crypto/address.js'
import { GatewayError } from '../../bridge/gateway/errors.js'
import { STALE_STATUS } from '../../bridge/gateway/groups/stale-occupants.js'
import { decodeGroupControl, encodeGroupControl, isGroupControl } from '../../bridge/wire/group-control.js'
import { encodeStanzaPayload } from '../../bridge/wire/stanza-payload.js'
import { body, createTeam, type FakeBridge, FakeNetwork, type RoomCall } from './groups-helpers.js'

const SETTINGS = { name: 'Team', description: 'd', membersOnly: true, mode: 'normal' as const }
const AWAY = [xml('show', {}, 'away'), xml('status', {}, 'lunch')]

const refused = (condition: string) => (err: unknown) =>
  err instanceof GatewayError && err.condition === condition

const calls = (side: FakeBridge, method: RoomCall['method']) =>
  side.calls.filter((c) => c.method === method).map((c) => c.args)

describe('group gateway: occupants across bridges (presence, private messages, stale occupants)', () => {
  let net: FakeNetwork
  let alice: FakeBridge
  let bob: FakeBridge
  let carol: FakeBridge
  let group: Uint8Array
  let room: string

  /** Alice creates "team", invites bob and carol; bob (dnd) and carol (away at lunch) join. */
  async function start(groups = {}): Promise<void> {
    net = new FakeNetwork()
    alice = await net.add('alice', groups)
    bob = await net.add('bob', groups)
    carol = await net.add('carol', groups)
    ;({ group, room } = await createTeam(net, alice, [bob, carol], SETTINGS))
    await bob.propose({ type: 'join', room, nick: 'Bob', presence: [xml('show', {}, 'dnd')] })
    await net.quiet()
    await carol.propose({ type: 'join', room, nick: 'Carol', presence: AWAY })
    await net.quiet()
  }

  beforeEach(() => start({ occupantPresenceIntervalMs: 200, staleOccupantMs: 50 }))

  it('a join carries show/status; the newcomer is told the others with theirs', async () => {
    const carolJoin = (c: unknown[]) => (c[0] as { nick: string }).nick === 'Carol'
    for (const viewer of [alice, bob]) {
      const [join] = calls(viewer, 'join').filter(carolJoin)
      assert.equal(join![0] && body((join![0] as { presence: never[] }).presence), body(AWAY))
    }
    // Carol came in last: she was told who is in, bob with his dnd.
    const told = calls(carol, 'join').map((c) => c[0] as { nick: string; presence?: never[] })
    assert.deepEqual(told.map((j) => [j.nick, j.presence ? body(j.presence) : '']).sort(), [
      ['Alice', ''],
      ['Bob', '<show>dnd</show>'],
    ])
  })

  it('a show/status change reaches the other rooms; changes within the interval merge into the last', async () => {
    const published = () => net.sent.filter((s) => s.from === bob.identity.publicKey).length
    const before = published()
    await bob.propose({ type: 'presence', room, nick: 'Bob', presence: AWAY })
    await net.quiet()
    for (const viewer of [alice, carol])
      assert.deepEqual(
        calls(viewer, 'changePresence').map(([address, presence]) => [address, body(presence as never[])]),
        [[bob.address, body(AWAY)]],
      )
    const once = published() - before
    assert.ok(once > 0)
    // Flapping: three changes within the interval, the same as before once more: one more publication, the last.
    for (const show of ['dnd', 'chat', 'xa'])
      await bob.propose({ type: 'presence', room, nick: 'Bob', presence: [xml('show', {}, show)] })
    await bob.propose({ type: 'presence', room, nick: 'Bob', presence: [xml('show', {}, 'xa')] })
    await net.quiet()
    assert.equal(published() - before, once)
    await new Promise((resolve) => setTimeout(resolve, 250))
    await net.quiet()
    assert.equal(published() - before, 2 * once)
    const last = calls(alice, 'changePresence').at(-1)!
    assert.equal(body(last[1] as never[]), '<show>xa</show>')
  })

  it('a private message to an occupant of another bridge crosses as a pairwise body and is shown from the nick', async () => {
    await alice.propose({
      type: 'private-message',
      room: 'team',
      nick: 'Alice',
      to: 'Bob',
      toAddress: bob.address.toLowerCase(),
      payload: [xml('body', {}, 'psst'), xml('foreign', { xmlns: 'urn:x' })],
    })
    await net.quiet()
    const sent = net.sent.filter((s) => s.from === alice.identity.publicKey && isGroupControl(s.body)).at(-1)!
    assert.equal(decodeGroupControl(sent.body).type, 'private')
    const [message] = calls(bob, 'message')
    const shown = message![0] as { address: string; to: string; payload: never[] }
    assert.equal(shown.address, alice.address)
    assert.equal(shown.to, 'Bob')
    assert.equal(body(shown.payload), '<body>psst</body>')
    assert.equal(calls(carol, 'message').length, 0)
  })

  it('refuses a private message to a non-member; drops one from a non-member or for a member not in the room', async () => {
    const stranger = encodeAddress(new Uint8Array(32).fill(7)).toLowerCase()
    const pm = {
      type: 'private-message' as const,
      room: 'team',
      nick: 'Alice',
      payload: [xml('body', {}, 'x')],
    }
    await assert.rejects(alice.propose({ ...pm, to: 'Eve', toAddress: stranger }), refused('item-not-found'))
    const payload = encodeStanzaPayload({ kind: 'message', type: 'chat', id: new Uint8Array(16), body: 'hi' })
    const deliver = (from: Uint8Array, to: FakeBridge) =>
      to.groups.deliver({
        from,
        to: to.identity.publicKey,
        id: new Uint8Array(16),
        timestamp: Date.now(),
        reliable: true,
        body: encodeGroupControl({ type: 'private', group, payload }),
      })
    await deliver(new Uint8Array(32).fill(7), bob)
    assert.equal(calls(bob, 'message').length, 0, 'not a member')
    await deliver(carol.identity.publicKey, bob)
    assert.equal(calls(bob, 'message').length, 1, 'a member in the room')
    await bob.propose({ type: 'leave', room, nick: 'Bob' })
    await net.quiet()
    await deliver(carol.identity.publicKey, bob)
    assert.equal(calls(bob, 'message').length, 1, 'the recipient left the room')
    await deliver(bob.identity.publicKey, carol)
    assert.equal(calls(carol, 'message').length, 0, 'the sender left the room')
  })

  it('an occupant whose bridge is unreachable leaves after staleOccupantMs; back in, as it was, when a message of it arrives', async () => {
    alice.emit('unreachable', { from: alice.identity.publicKey, to: carol.identity.publicKey })
    assert.equal(calls(alice, 'leave').length, 0)
    await new Promise((resolve) => setTimeout(resolve, 80))
    assert.deepEqual(calls(alice, 'leave'), [[carol.address, STALE_STATUS]])
    const joins = calls(alice, 'join').length
    // Her bridge answering is not enough: after a crash it answers before its clients rejoin.
    alice.emit('heard', { from: carol.identity.publicKey, to: alice.identity.publicKey })
    await net.quiet()
    assert.equal(calls(alice, 'join').length, joins, 'not shown back on an answer alone')
    await carol.propose({ type: 'message', room, nick: 'Carol', payload: [xml('body', {}, 'back')] })
    await net.quiet()
    const back = calls(alice, 'join').at(-1)![0] as { address: string; nick: string; presence: never[] }
    assert.deepEqual([back.address, back.nick, body(back.presence)], [carol.address, 'Carol', body(AWAY)])
    // Heard again within the time: nothing changes.
    alice.emit('unreachable', { from: alice.identity.publicKey, to: bob.identity.publicKey })
    alice.emit('heard', { from: bob.identity.publicKey, to: alice.identity.publicKey })
    await new Promise((resolve) => setTimeout(resolve, 80))
    assert.equal(calls(alice, 'leave').length, 1)
  })
})

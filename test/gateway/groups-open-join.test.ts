import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import type { GroupsConfig } from '../../bridge/config/sections/groups.js'
import { encodeAddress } from '../../bridge/crypto/address.js'
import { identityFromSeed } from '../../bridge/crypto/identity.js'
import { GatewayError } from '../../bridge/gateway/errors.js'
import type { GroupRecordPort } from '../../bridge/gateway/groups/record-port.js'
import type { GroupKeyPair } from '../../bridge/messaging/groups/group-key.js'
import { decodeGroupControl, encodeGroupControl, isGroupControl } from '../../bridge/wire/group-control.js'
import { decodeGroupRendezvous, encodeGroupRendezvous } from '../../bridge/wire/group-rendezvous.js'
import { type FakeBridge, FakeNetwork } from './groups-helpers.js'

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const OPEN = { name: 'Open', description: '', membersOnly: false, mode: 'normal' as const }

const refused = (condition: string) => (err: unknown) =>
  err instanceof GatewayError && err.condition === condition

/**
 * Rendezvous records in memory (a unit test of the gateway's use of them; the
 * real blinded records are in test/dht/ and test/e2e/groups-open-join.test.ts).
 * A withdrawn record stays readable, as one in the DHT does until it expires.
 */
class FakeRecords implements GroupRecordPort {
  readonly bodies = new Map<string, Uint8Array>()
  readonly withdrawn = new Set<string>()
  publishes = 0

  async publish(group: GroupKeyPair, plaintext: Uint8Array): Promise<void> {
    this.publishes++
    this.bodies.set(hex(group.publicKey), plaintext.slice())
    this.withdrawn.delete(hex(group.publicKey))
  }

  withdraw(group: Uint8Array): void {
    this.withdrawn.add(hex(group))
  }

  async fetch(group: Uint8Array): Promise<Uint8Array | null> {
    return this.bodies.get(hex(group)) ?? null
  }
}

interface World {
  net: FakeNetwork
  records: FakeRecords
  alice: FakeBridge
  group: Uint8Array
  room: string
  add(name: string, config?: Partial<GroupsConfig>): Promise<FakeBridge>
}

/** Alice (owner) creates an open room; everyone shares one DHT of records. */
async function world(aliceConfig: Partial<GroupsConfig> = {}): Promise<World> {
  const net = new FakeNetwork()
  const records = new FakeRecords()
  const add = (name: string, config: Partial<GroupsConfig> = {}) =>
    net.add(name, config, undefined, { records })
  const alice = await add('alice', aliceConfig)
  await alice.propose({ type: 'create', room: 'door', nick: 'Alice', config: OPEN })
  const group = alice.groups.rooms.groupOf('door')!
  await net.quiet()
  return { net, records, alice, group, room: encodeAddress(group).toLowerCase(), add }
}

const locate = (who: FakeBridge, room: string, nick = who.account) =>
  who.groups.locate({ room, account: who.account, nick })

/** Join refusals sent on the network, by reason. */
const refusalsSent = (net: FakeNetwork) =>
  net.sent
    .filter((s) => isGroupControl(s.body) && s.body[1] === 6)
    .map((s) => (decodeGroupControl(s.body) as { reason: string }).reason)

describe('open rooms: record, admission and the newcomer side (fake rooms, in-memory messengers)', () => {
  it("an owner's open room is published: the owner first, the state version, the name", async () => {
    const { records, alice, group } = await world()
    await until(() => records.bodies.has(hex(group)))
    const record = decodeGroupRendezvous(records.bodies.get(hex(group))!)
    assert.deepEqual(
      { ...record, admitters: record.admitters.map(hex) },
      { stateVersion: 1, name: 'Open', admitters: [hex(alice.identity.publicKey)] },
    )
  })

  it('a stranger who knows only the address is let in: room and member there, no invitation, and it takes part', async () => {
    const { net, records, alice, group, room, add } = await world()
    const carol = await add('carol')
    await locate(carol, room, 'Carol')
    const rooms = carol.calls.map((c) => c.method)
    assert.equal(carol.calls[0]!.method, 'configure')
    assert.equal(carol.calls[0]!.room, room)
    assert.ok(!rooms.includes('invite'), 'an admission is no invitation')
    assert.ok(
      alice.calls.some(
        (c) =>
          c.method === 'affiliation' &&
          (c.args[0] as { target: string; affiliation: string }).target === carol.jid &&
          (c.args[0] as { affiliation: string }).affiliation === 'member',
      ),
    )
    await carol.propose({ type: 'join', room, nick: 'Carol', presence: [] })
    await net.quiet()
    assert.deepEqual(
      alice.calls.filter((c) => c.method === 'join').map((c) => c.args[0]),
      [{ address: carol.address, nick: 'Carol' }],
    )
    // The record follows the state: version 2 (carol added).
    await until(() => decodeGroupRendezvous(records.bodies.get(hex(group))!).stateVersion === 2)
    // A member asking again (it lost its state) gets the chain again, and is not added twice.
    const before = net.sent.length
    await alice.groups.deliver({
      from: carol.identity.publicKey,
      to: alice.identity.publicKey,
      id: randomBytes(16),
      timestamp: Date.now(),
      body: encodeGroupControl({ type: 'join-request', group, nick: 'Carol' }),
      reliable: false,
    })
    await net.quiet()
    const again = net.sent.slice(before).map((s) => s.body[1])
    assert.deepEqual(again, [1, 2], 'the chain (updates) and the key, nothing else')
    assert.equal(decodeGroupRendezvous(records.bodies.get(hex(group))!).stateVersion, 2)
  })

  it('members-only: the record is withdrawn and a request to the old one is refused registration-required', async () => {
    const { net, records, alice, group, room, add } = await world()
    await alice.propose({ type: 'configure', room: 'door', config: { ...OPEN, membersOnly: true } })
    await net.quiet()
    await until(() => records.withdrawn.has(hex(group)))
    const dave = await add('dave')
    await assert.rejects(locate(dave, room), refused('registration-required'))
    assert.deepEqual(refusalsSent(net), ['members-only'])
  })

  it('a banned stranger is refused forbidden; a full room and a spent rate are service-unavailable', async () => {
    const banned = await world()
    const bob = await banned.add('bob')
    await banned.alice.propose({ type: 'affiliation', room: 'door', target: bob.jid, affiliation: 'outcast' })
    await assert.rejects(locate(bob, banned.room), refused('forbidden'))

    const full = await world({ maxMembers: 2 })
    await locate(await full.add('carol'), full.room)
    await assert.rejects(locate(await full.add('dave'), full.room), refused('service-unavailable'))
    assert.deepEqual(refusalsSent(full.net), ['full'])

    const busy = await world({ joinsPerMinute: 1 })
    await locate(await busy.add('carol'), busy.room)
    await assert.rejects(locate(await busy.add('dave'), busy.room), refused('service-unavailable'))
    assert.deepEqual(refusalsSent(busy.net), ['rate-limited'])
  })

  it('an address that cannot admit says so, and the next one of the record is asked', async () => {
    const { net, records, alice, group, room, add } = await world()
    const bob = await add('bob')
    await locate(bob, room)
    // A record naming a plain member first (an admin since demoted, say), then the owner.
    records.bodies.set(
      hex(group),
      encodeGroupRendezvous({
        stateVersion: 2,
        name: 'Open',
        admitters: [bob.identity.publicKey, alice.identity.publicKey],
      }),
    )
    const carol = await add('carol')
    await locate(carol, room)
    assert.deepEqual(refusalsSent(net), ['not-admitting'])
    assert.ok(carol.calls.some((c) => c.method === 'configure'))
  })

  it('no record, a malformed record, or nobody answering: item-not-found, item-not-found, remote-server-timeout', async () => {
    const { records, group, room, add } = await world()
    const unknown = encodeAddress(identityFromSeed(randomBytes(32)).publicKey).toLowerCase()
    const carol = await add('carol', { joinAttemptMs: 100, joinWaitMs: 1000 })
    await assert.rejects(locate(carol, unknown), refused('item-not-found'))
    records.bodies.set(hex(group), Uint8Array.of(1, 0, 0))
    await assert.rejects(locate(carol, room), refused('item-not-found'))
    const nobody = identityFromSeed(randomBytes(32)).publicKey
    records.bodies.set(hex(group), encodeGroupRendezvous({ stateVersion: 1, name: '', admitters: [nobody] }))
    const started = Date.now()
    await assert.rejects(locate(carol, room), refused('remote-server-timeout'))
    assert.ok(Date.now() - started < 1000)
  })

  it('an admission that arrives after the join timed out is shown as an invitation; joining then takes it up', async () => {
    const { net, alice, room, add } = await world()
    const carol = await add('carol', { joinAttemptMs: 200, joinWaitMs: 400 })
    carol.contacts = new Set() // alice is a stranger to carol
    // Alice's answer (the chain and key) is late on the network.
    net.hold = (_body, to) => hex(to) === hex(carol.identity.publicKey)
    await assert.rejects(locate(carol, room, 'Carol'), refused('remote-server-timeout'))
    assert.equal(carol.calls.length, 0, 'nothing shown while the answer is late')
    net.hold = () => false
    net.release()
    await net.quiet()
    // The client no longer waits: the room appears with the room's invitation, from alice.
    assert.deepEqual(
      carol.calls
        .filter((c) => c.method === 'invite')
        .map((c) => [c.room, (c.args[0] as { from: string }).from]),
      [[room, alice.address]],
    )
    // Joining takes it up (a stranger's invitation waits for that), and alice's room shows carol.
    await carol.propose({ type: 'join', room, nick: 'Carol', presence: [] })
    await net.quiet()
    assert.deepEqual(
      alice.calls.filter((c) => c.method === 'join').map((c) => c.args[0]),
      [{ address: carol.address, nick: 'Carol' }],
    )
  })

  it('hostile bodies: requests for a group not held, malformed ones, a flood, refusals nobody asked for', async () => {
    const { net, alice, group, add } = await world({ joinRefusalsPerMinute: 3 })
    const mallory = await add('mallory')
    const deliver = (from: FakeBridge, to: FakeBridge, body: Uint8Array) =>
      to.groups.deliver({
        from: from.identity.publicKey,
        to: to.identity.publicKey,
        id: randomBytes(16),
        timestamp: Date.now(),
        body,
        reliable: false,
      })
    const request = (g: Uint8Array) => encodeGroupControl({ type: 'join-request', group: g, nick: 'M' })
    await deliver(mallory, alice, request(randomBytes(32)))
    await net.quiet()
    assert.deepEqual(refusalsSent(net), ['not-admitting'])
    // Cut short, no nick, an unknown reason: dropped, nothing sent, nothing thrown.
    for (const bad of [
      request(group).subarray(0, 20),
      Uint8Array.of(0x67, 5, ...group),
      Uint8Array.of(0x67, 6, ...group, 99),
    ])
      await deliver(mallory, alice, bad)
    await net.quiet()
    assert.equal(refusalsSent(net).length, 1)
    // Banned, then ten more requests: two more refusals (three a minute in all), the rest unanswered.
    await alice.propose({ type: 'affiliation', room: 'door', target: mallory.jid, affiliation: 'outcast' })
    for (let i = 0; i < 10; i++) await deliver(mallory, alice, request(group))
    await net.quiet()
    assert.deepEqual(refusalsSent(net), ['not-admitting', 'banned', 'banned'])
    // A refusal to someone who asked nothing changes nothing.
    await deliver(alice, mallory, encodeGroupControl({ type: 'join-refusal', group, reason: 'banned' }))
    await net.quiet()
    assert.deepEqual(mallory.calls, [])
  })
})

async function until(check: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out')
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

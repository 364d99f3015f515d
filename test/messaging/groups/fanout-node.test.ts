import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { type GroupsConfig, groupsSection } from '../../../bridge/config/sections/groups.js'
import { generateIdentity, type Identity } from '../../../bridge/crypto/identity.js'
import { silentLogger } from '../../../bridge/log.js'
import { fanoutPlan } from '../../../bridge/messaging/groups/fanout.js'
import {
  FanoutError,
  FanoutNode,
  type GroupDelivery,
  type GroupMembership,
} from '../../../bridge/messaging/groups/fanout-node.js'
import { GroupPresence } from '../../../bridge/messaging/groups/presence.js'
import { decodeFanoutPacket, signFanoutPacket } from '../../../bridge/wire/group-fanout.js'

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const text = (s: string) => new TextEncoder().encode(s)
const GROUP_ID = new Uint8Array(32).fill(9)

interface Hop {
  from: Uint8Array
  to: Uint8Array
  bytes: Uint8Array
}

/**
 * n members on an instant in-memory network: hops queue up and flush()
 * delivers them in order. The real node, real signatures; the sim
 * (fanout-sim.test.ts) adds latency, churn and the mailbox.
 */
function group(n: number, options: { config?: Partial<GroupsConfig>; offline?: number[] } = {}) {
  const identities: Identity[] = Array.from({ length: n }, () => generateIdentity())
  const states = new Map([[1, identities.map((id) => id.publicKey)]])
  const membership: GroupMembership = {
    members: (version) => states.get(version),
    current: () => {
      const version = Math.max(...states.keys())
      return { version, members: states.get(version)! }
    },
  }
  const queue: Hop[] = []
  const deliveries = identities.map(() => [] as GroupDelivery[])
  const deposits: Uint8Array[] = []
  const asked: number[] = []
  const timers: (() => void)[] = []
  let clock = 1_800_000_000_000
  const index = new Map(identities.map((id, i) => [hex(id.publicKey), i]))
  const makeNode = (i: number, overrides: Partial<GroupsConfig> = options.config ?? {}) => {
    const self = identities[i]!
    const config = groupsSection.parse(overrides)
    const presence = new GroupPresence(config.presenceTimeoutMs, () => clock)
    for (const j of options.offline ?? []) presence.gone(identities[j]!.publicKey)
    return new FanoutNode({
      self,
      groupId: GROUP_ID,
      config,
      membership,
      presence,
      log: silentLogger,
      now: () => clock,
      send: (to, bytes) => {
        queue.push({ from: self.publicKey, to, bytes })
      },
      deliver: (message) => deliveries[i]!.push(message),
      depositForOffline: (packet) => {
        deposits.push(packet)
      },
      fetchMailbox: async () => deposits,
      requestState: (version) => asked.push(version),
      setTimer: (_ms, fn) => timers.push(fn),
    })
  }
  const nodes = identities.map((_, i) => makeNode(i))
  /** Delivers the queued hops, except those from `silent` members (they receive but do not forward). */
  const flush = (silent: ReadonlySet<number> = new Set()) => {
    const sent: Hop[] = []
    while (queue.length > 0) {
      const hop = queue.shift()!
      if (silent.has(index.get(hex(hop.from))!)) continue
      sent.push(hop)
      nodes[index.get(hex(hop.to))!]!.receive(hop.from, hop.bytes)
    }
    return sent
  }
  const fireTimers = () => {
    for (const fn of timers.splice(0)) fn()
  }
  return {
    identities,
    nodes,
    makeNode,
    states,
    queue,
    deliveries,
    deposits,
    asked,
    flush,
    fireTimers,
    advance: (ms: number) => {
      clock += ms
    },
  }
}

describe('FanoutNode', () => {
  it('direct in a small group: each online member gets it once from the origin; no deposit when all are online', () => {
    const g = group(6)
    g.nodes[0]!.publish(text('hello'))
    const hops = g.flush()
    assert.equal(hops.length, 5)
    assert.ok(hops.every((hop) => hex(hop.from) === hex(g.identities[0]!.publicKey)))
    for (let i = 1; i < 6; i++)
      assert.deepEqual(
        g.deliveries[i]!.map((d) => [d.via, Buffer.from(d.inner).toString()]),
        [['tree', 'hello']],
      )
    assert.equal(g.deliveries[0]!.length, 0, 'the origin does not hand its own message up')
    assert.equal(g.deposits.length, 0)
  })

  it('deposits once when a member is offline, and the member takes it from the mailbox on return', async () => {
    const g = group(6, { offline: [4] })
    g.nodes[0]!.publish(text('while you were out'))
    assert.equal(g.flush().length, 4)
    assert.equal(g.deposits.length, 1)
    assert.equal(await g.nodes[4]!.catchUp(), 1)
    assert.equal(await g.nodes[4]!.catchUp(), 0, 'a second fetch brings nothing new')
    assert.equal(await g.nodes[1]!.catchUp(), 0, 'members that had it drop the mailbox copy')
    assert.deepEqual(
      g.deliveries[4]!.map((d) => d.via),
      ['mailbox'],
    )
    assert.equal(g.queue.length, 0, 'mailbox copies are not forwarded')
  })

  it('a tree of 60: everyone once, two copies each, relays forward the same bytes', () => {
    const g = group(60)
    const { packet } = g.nodes[7]!.publish(text('to many'))
    const hops = g.flush()
    for (let i = 0; i < 60; i++) assert.equal(g.deliveries[i]!.length, i === 7 ? 0 : 1, `member ${i}`)
    assert.equal(hops.length, 2 * 59, 'two upstream copies per member')
    assert.ok(hops.every((hop) => Buffer.compare(hop.bytes, packet) === 0))
    assert.equal(g.deposits.length, 1, 'tree packets always go to the mailbox too (repair)')
  })

  it('a member that stops forwarding cuts nobody off', () => {
    const g = group(60)
    g.nodes[0]!.publish(text('despite you'))
    g.flush(new Set([13]))
    for (let i = 1; i < 60; i++) assert.equal(g.deliveries[i]!.length, 1, `member ${i}`)
  })

  it('two silent parents: the first two children of a silent member stand in for it after repairAfterMs', () => {
    const g = group(60)
    const { packet } = g.nodes[0]!.publish(text('repaired'))
    const header = decodeFanoutPacket(packet, 65536)
    const plan = fanoutPlan({ ...header, seed: header.messageId, origin: 0 })
    const cut = plan.layers[2]![0]!
    const silent = new Set(plan.upstream[cut])
    g.flush(silent)
    assert.equal(g.deliveries[cut]!.length, 0, 'both its parents were silent')
    g.fireTimers()
    g.flush(silent)
    assert.equal(g.deliveries[cut]!.length, 1)
    for (let i = 1; i < 60; i++) assert.equal(g.deliveries[i]!.length, 1, `member ${i}`)
    const standIns = g.nodes.filter((node) => node.repairs > 0).length
    assert.ok(standIns >= 1 && standIns <= 4, `${standIns} members stood in (two per silent parent at most)`)
  })

  it('refuses malformed, foreign, forged and outsider packets, and hands up nothing', () => {
    const g = group(4)
    const from = g.identities[0]!.publicKey
    const node = g.nodes[1]!
    const fields = {
      width: 0,
      groupId: GROUP_ID,
      messageId: new Uint8Array(16).fill(1),
      timestamp: 1_800_000_000_000,
      stateVersion: 1,
      memberCount: 4,
      online: Uint8Array.of(0xf0),
      inner: text('x'),
    }
    assert.equal(node.receive(from, text('junk')), 'malformed')
    assert.equal(
      node.receive(from, signFanoutPacket({ ...fields, groupId: new Uint8Array(32) }, g.identities[0]!)),
      'otherGroup',
    )
    const forged = signFanoutPacket(fields, g.identities[0]!)
    forged[forged.length - 1]! ^= 1
    assert.equal(node.receive(from, forged), 'badSignature')
    assert.equal(node.receive(from, signFanoutPacket(fields, generateIdentity())), 'notMember')
    assert.equal(
      node.receive(
        from,
        signFanoutPacket({ ...fields, memberCount: 5, online: Uint8Array.of(0xf8) }, g.identities[0]!),
      ),
      'notMember',
    )
    assert.equal(g.deliveries[1]!.length, 0)
    assert.equal(
      node.receive(from, signFanoutPacket(fields, g.identities[0]!)),
      'delivered',
      'the real one still passes',
    )
  })

  it('holds a packet of an unknown state version, asks once, and takes it in when the state arrives', () => {
    const g = group(4)
    const members = g.states.get(1)!
    g.states.set(2, members)
    g.nodes[0]!.publish(text('one'))
    g.nodes[0]!.publish(text('two'))
    g.states.delete(2)
    g.flush()
    assert.deepEqual(
      g.deliveries.map((d) => d.length),
      [0, 0, 0, 0],
    )
    assert.deepEqual(g.asked, [2, 2, 2], 'each of members 1..3 asks once for version 2')
    g.states.set(2, members)
    for (const node of g.nodes) node.retryHeld()
    for (const i of [1, 2, 3])
      assert.deepEqual(
        g.deliveries[i]!.map((d) => Buffer.from(d.inner).toString()),
        ['one', 'two'],
      )
  })

  /** The packet and a layer-1 member of a fresh tree, with the hops cleared. */
  function firstLayer(g: ReturnType<typeof group>, inner: Uint8Array) {
    const { packet } = g.nodes[0]!.publish(inner)
    const hop = g.queue.find((h) => hex(h.from) === hex(g.identities[0]!.publicKey))!
    g.queue.length = 0
    return { packet, member: g.identities.findIndex((id) => hex(id.publicKey) === hex(hop.to)) }
  }

  it('shows a stale packet but does not forward it', () => {
    const g = group(60)
    const { packet, member } = firstLayer(g, text('old news'))
    g.advance(groupsSection.parse({}).forwardWindowMs + 1)
    assert.equal(g.nodes[member]!.receive(g.identities[0]!.publicKey, packet), 'delivered')
    assert.equal(g.queue.length, 0)
  })

  it('does not forward more copies than its own maxOutDegree allows', () => {
    const wide = { directMax: 1, fanout: 20, maxOutDegree: 255 }
    const g = group(421, { config: wide }) // layers of 20 and 400
    const { packet, member } = firstLayer(g, text('wide'))
    const origin = g.identities[0]!.publicKey
    g.makeNode(member, wide).receive(origin, packet)
    assert.ok(g.queue.length > 32, `a layer-1 member of a width-20 tree sends ${g.queue.length}`)
    g.queue.length = 0
    assert.equal(g.makeNode(member, {}).receive(origin, packet), 'delivered')
    assert.equal(g.queue.length, 0, 'over the default maxOutDegree of 32: shown, not forwarded')
  })

  it('high mode: each member gets its own sealed part directly', () => {
    const g = group(5)
    g.nodes[2]!.publishEach((member) => text(`for ${hex(member).slice(0, 6)}`))
    const hops = g.flush()
    assert.equal(hops.length, 4)
    for (const i of [0, 1, 3, 4])
      assert.deepEqual(
        g.deliveries[i]!.map((d) => Buffer.from(d.inner).toString()),
        [`for ${hex(g.identities[i]!.publicKey).slice(0, 6)}`],
      )
    assert.equal(g.deposits.length, 0)
  })

  it('refuses to publish for a non-member or over maxPacketBytes', () => {
    const g = group(3)
    g.states.set(2, g.states.get(1)!.slice(1))
    assert.throws(
      () => g.nodes[0]!.publish(text('x')),
      (err: unknown) => err instanceof FanoutError && err.code === 'FANOUT_NOT_MEMBER',
    )
    assert.throws(
      () => g.nodes[1]!.publish(new Uint8Array(70_000)),
      (err: unknown) => err instanceof FanoutError && err.code === 'FANOUT_TOO_LARGE',
    )
  })
})

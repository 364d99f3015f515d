import { defaultConfig } from '../../../bridge/config/schema.js'
import { type GroupsConfig, groupsSection } from '../../../bridge/config/sections/groups.js'
import { identityFromSeed } from '../../../bridge/crypto/identity.js'
import { silentLogger } from '../../../bridge/log.js'
import { fanoutPlan } from '../../../bridge/messaging/groups/fanout.js'
import { FanoutNode, type GroupMembership } from '../../../bridge/messaging/groups/fanout-node.js'
import { GroupPresence } from '../../../bridge/messaging/groups/presence.js'
import { decodeFanoutPacket } from '../../../bridge/wire/group-fanout.js'
import { prng } from '../../fuzz-prng.js'

/**
 * A deterministic discrete-event simulation of one group's fan-out: REAL
 * FanoutNode instances (real packets, real Ed25519 signing and verifying)
 * over a simulated network with a virtual clock. Used by
 * fanout-sim.test.ts (few messages) and bench/suites/groups.ts (more).
 *
 * The model (docs/group-fanout.md "The simulation and its figures"):
 * - One hop = one pairwise messenger message: latency log-normal with the
 *   p50 9 ms / p99 40 ms of our onion path between bridges (bench "onion");
 *   a lost hop (rate `loss`) is sent again by the messenger after its first
 *   retry delay (messaging.retryInitialMs). Sealing and opening each envelope
 *   takes the member's CPU for `envelopeCostMs`, one envelope at a time.
 * - `offline` of the members are away all along, clear in every bitmap; they
 *   come back after the last message and fetch the group mailbox.
 * - `drop` of the online members drop out mid-send: each, at a random
 *   message, hands it up, forwards to a random prefix of its children, and
 *   is gone; everyone still counts it online (their presence view is stale).
 *   Hops to it wait in its own mailbox (as the messenger's would); it comes
 *   back with the offline members, takes those and the group mailbox.
 * - A member whose upstream member stays silent stands in for it after
 *   groups.repairAfterMs (the node's own timer, on the virtual clock); every
 *   present member also fetches the group mailbox every groups.syncIntervalMs
 *   (random phase): that catches what is still missing.
 * - The group mailbox: a deposit is readable after one onion trip; a fetch
 *   takes one round trip.
 */
export interface SimOptions {
  members: number
  messages: number
  /** Share of all members away for the whole run. */
  offline: number
  /** Share of the online members that drop out mid-send. */
  drop: number
  /** Share of hops lost once (the messenger sends them again). */
  loss?: number
  /** 'direct' = the sender sends to every online member itself (the reference). */
  strategy: 'tree' | 'direct'
  seed: number
  /** Sealed group message size (bytes, opaque to fan-out). */
  innerBytes?: number
  /**
   * CPU time of sealing or opening one pairwise envelope (bench "envelope"):
   * a member's sends and receives queue up behind each other, so a sender that
   * sends to everyone pays it once per member.
   */
  envelopeCostMs?: number
  /** Time between two messages of the run (each from a random present member). */
  intervalMs?: number
  config?: Partial<GroupsConfig>
}

export interface SimResult {
  online: number
  offline: number
  dropped: number
  packetBytes: number
  /** (member, message) pairs handed up other than exactly once; must be empty. */
  wrong: string[]
  /** ms from publish to hand-up, for members present all along (through the tree, or the mailbox when it was first). */
  latencies: number[]
  /** Deliveries to present members that no tree hop brought: the group mailbox sync repaired them. */
  repaired: number
  /** Times a member stood in for a silent upstream member (groups.repairAfterMs). */
  standIns: number
  /** Tree misses NOT explained by both upstream members having failed (dropped, or missed themselves); must be empty. */
  unexplained: string[]
  /** Per member: bytes sent relaying for others over the whole run. */
  relayBytes: number[]
  /** Bytes each origin sent for its own message (one entry per message). */
  originBytes: number[]
  /** The most one member sent relaying one message. */
  maxRelayBytesPerMessage: number
  /** Hops sent in all. */
  hops: number
}

const LATENCY_MEDIAN_MS = 9
const LATENCY_P99_MS = 40
const Z99 = 2.3263
const SIGMA = Math.log(LATENCY_P99_MS / LATENCY_MEDIAN_MS) / Z99

/** A min-heap of events by time, then insertion order (so equal times stay deterministic). */
class EventQueue {
  private readonly heap: { at: number; seq: number; run: () => unknown }[] = []
  private seq = 0
  now = 0

  at(time: number, run: () => unknown): void {
    const heap = this.heap
    heap.push({ at: time, seq: this.seq++, run })
    let i = heap.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!this.before(i, parent)) break
      ;[heap[i], heap[parent]] = [heap[parent]!, heap[i]!]
      i = parent
    }
  }

  after(delay: number, run: () => unknown): void {
    this.at(this.now + delay, run)
  }

  /** Runs every event in time order; awaits a handler's promise before the next event. */
  async drain(): Promise<void> {
    while (this.heap.length > 0) {
      const next = this.pop()
      this.now = next.at
      const result = next.run()
      if (result instanceof Promise) await result
    }
  }

  private pop() {
    const heap = this.heap
    const top = heap[0]!
    const last = heap.pop()!
    if (heap.length > 0) {
      heap[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < heap.length && this.before(l, m)) m = l
        if (r < heap.length && this.before(r, m)) m = r
        if (m === i) break
        ;[heap[i], heap[m]] = [heap[m]!, heap[i]!]
        i = m
      }
    }
    return top
  }

  private before(a: number, b: number): boolean {
    const x = this.heap[a]!
    const y = this.heap[b]!
    return x.at < y.at || (x.at === y.at && x.seq < y.seq)
  }
}

type Role = 'present' | 'offline' | 'dropper'

interface Member {
  index: number
  role: Role
  node: FanoutNode
  /** Gone (offline or dropped out); hops to it wait in `waiting`. */
  away: boolean
  /** Dropper: hands up and half-forwards the first message at or after this one. */
  dropAt: number
  /** Dropper, while dropping out: sends it still makes. */
  budget: number
  dropping: boolean
  /** Back after the run (a dropper drops only once). */
  returned: boolean
  waiting: { from: Uint8Array; bytes: Uint8Array }[]
  /** Its CPU is taken until then (sealing and opening envelopes). */
  busyUntil: number
  relayBytes: number
}

const hexOf = (bytes: Uint8Array, from: number, to: number) =>
  Buffer.from(bytes.subarray(from, to)).toString('hex')

export async function simulate(options: SimOptions): Promise<SimResult> {
  const rand = prng(options.seed)
  const uniform = () => (rand(2 ** 31) + 0.5) / 2 ** 31
  const normal = () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform())
  const latency = () => LATENCY_MEDIAN_MS * Math.exp(SIGMA * normal())
  const bytes = (n: number) => Uint8Array.from({ length: n }, () => rand(256))

  const events = new EventQueue()
  const base =
    options.strategy === 'direct' ? { ...options.config, directMax: options.members } : (options.config ?? {})
  const config = groupsSection.parse(base)
  const retryMs = defaultConfig().messaging.retryInitialMs
  const intervalMs = options.intervalMs ?? 250
  const identities = Array.from({ length: options.members }, () => identityFromSeed(bytes(32)))
  const addresses = identities.map((id) => id.publicKey)
  const indexOf = new Map(addresses.map((a, i) => [hexOf(a, 0, 32), i]))
  const membership: GroupMembership = {
    members: (version) => (version === 1 ? addresses : undefined),
    current: () => ({ version: 1, members: addresses }),
  }
  const groupId = bytes(32)
  const mailbox: { readableAt: number; packet: Uint8Array }[] = []

  const roles: Role[] = addresses.map(() => (uniform() < options.offline ? 'offline' : 'present'))
  for (const [i, role] of roles.entries())
    if (role === 'present' && uniform() < options.drop) roles[i] = 'dropper'
  const offline = roles.flatMap((role, i) => (role === 'offline' ? [i] : []))

  const messageIndex = new Map<string, number>()
  const publishedAt: number[] = []
  const handedUp = new Map<string, number>()
  const latencies: number[] = []
  /** `member:message` for every tree hop that reached a present member. */
  const reachedByTree = new Set<string>()
  const originBytes: number[] = []
  const relayPerMessage = new Map<string, number>()
  const packets: Uint8Array[] = []
  let hops = 0
  let packetBytes = 0

  const members: Member[] = identities.map((self, index) => {
    const role = roles[index]!
    const presence = new GroupPresence(config.presenceTimeoutMs, () => events.now)
    for (const j of offline) presence.gone(addresses[j]!)
    const member: Member = {
      index,
      role,
      away: role === 'offline',
      dropAt: role === 'dropper' ? rand(options.messages) : Number.POSITIVE_INFINITY,
      budget: 0,
      dropping: false,
      returned: false,
      waiting: [],
      busyUntil: 0,
      relayBytes: 0,
      node: new FanoutNode({
        self,
        groupId,
        config,
        membership,
        presence,
        log: silentLogger,
        now: () => events.now,
        random: bytes,
        send: (to, packet) => send(member, to, packet),
        deliver: (message) => {
          const k = messageIndex.get(hexOf(message.messageId, 0, 16))!
          const key = `${index}:${k}`
          handedUp.set(key, (handedUp.get(key) ?? 0) + 1)
          if (role === 'present') latencies.push(events.now - publishedAt[k]!)
          if (k >= member.dropAt && !member.dropping && !member.away && !member.returned) {
            member.dropping = true
            member.budget = rand(2 * config.fanout + 1)
          }
        },
        depositForOffline: (packet) => {
          mailbox.push({ readableAt: events.now + latency(), packet })
        },
        fetchMailbox: async () =>
          mailbox.filter((item) => item.readableAt <= events.now).map((i) => i.packet),
        requestState: () => {},
        // A member that is gone runs no timers.
        setTimer: (ms, fn) => events.after(ms, () => member.away || fn()),
      }),
    }
    return member
  })

  function send(from: Member, to: Uint8Array, packet: Uint8Array): void {
    if (from.dropping && from.budget-- <= 0) return
    hops++
    const isOrigin = hexOf(packet, 34, 66) === hexOf(addresses[from.index]!, 0, 32)
    if (!isOrigin) {
      from.relayBytes += packet.length
      const key = `${from.index}:${hexOf(packet, 66, 82)}`
      relayPerMessage.set(key, (relayPerMessage.get(key) ?? 0) + packet.length)
    }
    const target = members[indexOf.get(hexOf(to, 0, 32))!]!
    const delay = latency() + (uniform() < (options.loss ?? 0) ? retryMs + latency() : 0)
    const sender = addresses[from.index]!
    events.at(busy(from) + delay, () => arrive(target, sender, packet))
  }

  /** The member's CPU: each envelope it seals or opens takes envelopeCostMs, one after the other. */
  function busy(member: Member): number {
    member.busyUntil = Math.max(events.now, member.busyUntil) + (options.envelopeCostMs ?? 0)
    return member.busyUntil
  }

  function arrive(member: Member, from: Uint8Array, packet: Uint8Array): void {
    if (member.away) {
      member.waiting.push({ from, bytes: packet })
      return
    }
    if (member.role === 'present')
      reachedByTree.add(`${member.index}:${messageIndex.get(hexOf(packet, 66, 82))}`)
    events.at(busy(member), () => {
      member.node.receive(from, packet)
      if (member.dropping) member.away = true
    })
  }

  const present = members.filter((m) => m.role === 'present')
  const origins: number[] = []
  for (let k = 0; k < options.messages; k++) {
    events.at(k * intervalMs, () => {
      const origin = present[rand(present.length)]!
      const before = hops
      const { messageId, packet } = origin.node.publish(bytes(options.innerBytes ?? 300))
      messageIndex.set(hexOf(messageId, 0, 16), k)
      origins[k] = origin.index
      publishedAt[k] = events.now
      packetBytes = packet.length
      packets[k] = packet
      originBytes.push((hops - before) * packet.length)
    })
  }

  const endOfMessages = options.messages * intervalMs
  const returnAt = endOfMessages + config.forwardWindowMs
  for (const member of members) {
    if (member.role === 'present') {
      const phase = uniform() * config.syncIntervalMs
      const sync = () => {
        events.after(latency() * 2, () => member.node.catchUp())
        if (events.now < returnAt + config.syncIntervalMs) events.after(config.syncIntervalMs, sync)
      }
      events.at(phase, sync)
    } else {
      events.at(returnAt + uniform() * 60_000, () => {
        member.away = false
        member.dropping = false
        member.returned = true
        events.after(latency() * 2, async () => {
          await member.node.catchUp()
          for (const hop of member.waiting.splice(0)) member.node.receive(hop.from, hop.bytes)
        })
      })
    }
  }

  await events.drain()

  const missed = packets.map(
    (_, k) =>
      new Set(
        present.flatMap((m) =>
          reachedByTree.has(`${m.index}:${k}`) || origins[k] === m.index ? [] : [m.index],
        ),
      ),
  )
  const dropAt = members.map((m) => (m.role === 'dropper' ? m.dropAt : Number.POSITIVE_INFINITY))
  const unexplained = packets.flatMap((packet, k) => {
    const header = decodeFanoutPacket(packet, config.maxPacketBytes)
    const plan = fanoutPlan({ ...header, seed: header.messageId, origin: origins[k]! })
    const failed = (u: number) => dropAt[u]! <= k || missed[k]!.has(u)
    return [...missed[k]!].flatMap((i) =>
      plan.upstream[i]!.every(failed)
        ? []
        : [`message ${k}: member ${i} missed with upstream ${plan.upstream[i]}`],
    )
  })
  const wrong: string[] = []
  for (let k = 0; k < options.messages; k++)
    for (const member of members) {
      const times = handedUp.get(`${member.index}:${k}`) ?? 0
      const isOrigin = origins[k] === member.index
      if (times !== (isOrigin ? 0 : 1))
        wrong.push(`member ${member.index} (${member.role}) message ${k}: ${times}×`)
    }
  return {
    online: members.filter((m) => m.role !== 'offline').length,
    offline: offline.length,
    dropped: members.filter((m) => m.role === 'dropper').length,
    packetBytes,
    wrong,
    latencies,
    repaired: missed.reduce((sum, set) => sum + set.size, 0),
    unexplained,
    standIns: members.reduce((sum, m) => sum + m.node.repairs, 0),
    relayBytes: members.map((m) => m.relayBytes),
    originBytes,
    maxRelayBytesPerMessage: Math.max(0, ...relayPerMessage.values()),
    hops,
  }
}

import type { RandomBytes } from '../net/udp-node.js'
import type { NodeDescriptor } from '../wire/descriptor.js'

export interface RelayEndpoint {
  host: string
  port: number
}

export interface RelayEntry {
  /** Hex of the node key: the directory's key. */
  id: string
  descriptor: NodeDescriptor
  /** Where we reached it (one of the descriptor's endpoints). */
  endpoint: RelayEndpoint
  firstSeen: number
  /** Last announce seen or descriptor fetched. */
  lastSeen: number
  /** Reputation: raised by successes, lowered by failures (tunnel tests, dropped traffic). */
  score: number
}

export interface DirectoryPolicy {
  /** Entries not seen for this long are dropped. */
  relayStaleMs: number
  /** Below this score a relay is never selected. */
  minRelayScore: number
  /** Never two relays of one IPv4 /16 in one selection (off on a loopback testnet). */
  distinctSubnets: boolean
}

export interface RelayDirectory {
  /** Adds or refreshes a verified relay. */
  upsert(descriptor: NodeDescriptor, endpoint: RelayEndpoint, now: number): RelayEntry
  /** Liveness: the relay was seen again (announce, answered query). */
  seen(id: string, now: number): void
  /** Reputation hook: add `delta` (negative for a failure) to a relay's score. */
  report(id: string, delta: number): void
  get(id: string): RelayEntry | undefined
  remove(id: string): void
  /** Drops expired descriptors and stale entries; returns how many went. */
  prune(now: number): number
  list(): RelayEntry[]
  readonly size: number
  /** Up to `count` distinct usable relays, random order, spread over /16 networks (see DirectoryPolicy). */
  select(count: number, options?: { exclude?: Iterable<string>; now?: number }): RelayEntry[]
}

export const relayId = (nodeKey: Uint8Array): string => Buffer.from(nodeKey).toString('hex')

/** "a.b" of an IPv4 address: relays sharing it are likely one operator or one network. */
export const subnet16 = (host: string): string => host.split('.').slice(0, 2).join('.')

/** Uniform integer in [0, n) from 4 random bytes (n is small: the modulo bias is negligible). */
function randomBelow(random: RandomBytes, n: number): number {
  const b = random(4)
  return (((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0) % n
}

function shuffle<T>(items: T[], random: RandomBytes): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = randomBelow(random, i + 1)
    ;[items[i], items[j]] = [items[j]!, items[i]!]
  }
  return items
}

/** The in-memory directory of verified relays: liveness, expiry, reputation, selection. */
export function createRelayDirectory(policy: DirectoryPolicy, random: RandomBytes): RelayDirectory {
  const entries = new Map<string, RelayEntry>()

  function usable(entry: RelayEntry, now: number | undefined): boolean {
    if (entry.score < policy.minRelayScore) return false
    return now === undefined || entry.descriptor.expiresAt > now
  }

  return {
    upsert(descriptor, endpoint, now) {
      const id = relayId(descriptor.nodeKey)
      const known = entries.get(id)
      const entry: RelayEntry = {
        id,
        descriptor,
        endpoint: { ...endpoint },
        firstSeen: known?.firstSeen ?? now,
        lastSeen: now,
        score: known?.score ?? 0,
      }
      entries.set(id, entry)
      return entry
    },
    seen(id, now) {
      const entry = entries.get(id)
      if (entry) entry.lastSeen = now
    },
    report(id, delta) {
      const entry = entries.get(id)
      if (entry) entry.score += delta
    },
    get: (id) => entries.get(id),
    remove(id) {
      entries.delete(id)
    },
    prune(now) {
      let dropped = 0
      for (const [id, entry] of entries) {
        if (entry.descriptor.expiresAt <= now || now - entry.lastSeen > policy.relayStaleMs) {
          entries.delete(id)
          dropped++
        }
      }
      return dropped
    },
    list: () => [...entries.values()],
    get size() {
      return entries.size
    },
    select(count, options = {}) {
      const excluded = new Set(options.exclude ?? [])
      const candidates = shuffle(
        [...entries.values()].filter((e) => !excluded.has(e.id) && usable(e, options.now)),
        random,
      )
      const chosen: RelayEntry[] = []
      const usedSubnets = new Set<string>()
      for (const entry of candidates) {
        if (chosen.length === count) break
        const net = subnet16(entry.endpoint.host)
        if (usedSubnets.has(net)) continue
        usedSubnets.add(net)
        chosen.push(entry)
      }
      if (!policy.distinctSubnets) {
        for (const entry of candidates) {
          if (chosen.length === count) break
          if (!chosen.includes(entry)) chosen.push(entry)
        }
      }
      return chosen
    },
  }
}

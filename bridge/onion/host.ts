import type { OnionConfig } from '../config/sections/onion.js'
import type { CryptoBackend } from '../crypto/backend.js'
import type { Link } from '../net/link.js'
import type { Endpoint, RandomBytes } from '../net/udp-node.js'
import type { Cell } from '../wire/cell.js'
import type { CircuitTable } from './circuit-table.js'
import type { OnionCounters } from './counters.js'
import type { OriginCircuit } from './origin-circuit.js'
import type { RelayCircuit } from './relay.js'

/** A relay a circuit goes through: its node key and where to reach it. */
export interface RelayTarget {
  nodeKey: Uint8Array
  endpoint: Endpoint
}

/** What a (link, circuit id) pair names on this node. */
export type Slot =
  | { kind: 'prev'; circuit: RelayCircuit }
  | { kind: 'next'; circuit: RelayCircuit }
  | { kind: 'origin'; circuit: OriginCircuit }

/** What relay and origin circuits need from the node they live on (the router provides it). */
export interface CircuitHost {
  readonly backend: CryptoBackend
  readonly config: OnionConfig
  readonly counters: OnionCounters
  readonly table: CircuitTable<Slot>
  readonly random: RandomBytes
  now(): number
  /** Encodes and sends; a link that went down meanwhile is not an error (the circuit dies with it). */
  sendCell(link: Link, cell: Cell): void
  connect(target: RelayTarget): Promise<Link>
}

const TWO_32 = 2 ** 32

/**
 * The first backward sequence number of a new hop: past every number the
 * previous end used (so layer nonces never repeat), plus a random jump so it
 * does not tell the hop how far along the circuit it sits.
 */
export function sequenceStart(random: RandomBytes, after: number): number {
  const b = random(4)
  const jump = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0
  return after + 1 + (jump % TWO_32)
}

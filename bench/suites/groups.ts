import { nativeBackend } from '../../bridge/crypto/native.js'
import { ENVELOPE_LENGTH, MAX_FRAME_BYTES } from '../../bridge/wire/envelope.js'
import { DATA_HEADER_BYTES } from '../../bridge/wire/frame.js'
import { type SimResult, simulate } from '../../test/messaging/groups/fanout-sim.js'
import { type BenchRow, type BenchSuite, percentile } from '../harness.js'
import { envelopeRates } from './envelope.js'

/**
 * Group fan-out on the simulated network of test/messaging/groups/fanout-sim.ts
 * (real nodes, packets and signatures; hop latency p50 9 ms / p99 40 ms as our
 * onion path): 20 % of members offline, 5 % of the online ones dropping out
 * mid-send, 1 % of hops lost once, and every envelope sealed or opened
 * costing a member the CPU time measured here (native seal). The tree against
 * the reference "the sender sends to everyone". Bytes are fan-out packet bytes (300-byte sealed
 * group message); each hop travels as pairwise envelopes (last row).
 */
const RUNS = [
  { members: 100, messages: 100 },
  { members: 1000, messages: 30 },
]

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length

function figures(result: SimResult, messages: number) {
  const relay = result.relayBytes.map((bytes) => bytes / messages)
  // Origins rotate: their bytes spread over all members in the mean.
  const originShare = result.originBytes.reduce((a, b) => a + b, 0) / messages / relay.length
  return {
    meanSent: mean(relay) + originShare,
    p99Relay: percentile(relay, 99),
    maxRelay: Math.max(...relay),
    maxRelayOneMessage: result.maxRelayBytesPerMessage,
    origin: mean(result.originBytes),
    p50: percentile(result.latencies, 50),
    p99: percentile(result.latencies, 99),
    repaired: result.repaired,
    hops: result.hops / messages,
  }
}

const suite: BenchSuite = {
  name: 'groups',
  async run(): Promise<BenchRow[]> {
    const { seal, open } = await envelopeRates(nativeBackend)
    const envelopeCostMs = 1000 / Math.min(seal, open)
    const rows: BenchRow[] = [
      { metric: 'CPU per envelope sealed or opened (measured)', value: envelopeCostMs, unit: 'ms' },
    ]
    for (const { members, messages } of RUNS) {
      const common = { members, messages, offline: 0.2, drop: 0.05, loss: 0.01, seed: 1, envelopeCostMs }
      const tree = await simulate({ ...common, strategy: 'tree' })
      const direct = await simulate({ ...common, strategy: 'direct' })
      const ours = figures(tree, messages)
      const ref = figures(direct, messages)
      const vs = (value: number) => ({ reference: { label: 'direct', value } })
      const p = `${members} members (${tree.online} online)`
      rows.push(
        {
          metric: `${p}: bytes sent per member per message, mean`,
          value: ours.meanSent,
          unit: 'B',
          ...vs(ref.meanSent),
        },
        {
          metric: `${p}: relay bytes per member per message, p99 of members`,
          value: ours.p99Relay,
          unit: 'B',
        },
        {
          metric: `${p}: relay bytes per member per message, max of members`,
          value: ours.maxRelay,
          unit: 'B',
        },
        {
          metric: `${p}: relay bytes, most one member sent for one message`,
          value: ours.maxRelayOneMessage,
          unit: 'B',
        },
        {
          metric: `${p}: bytes the origin sends per message`,
          value: ours.origin,
          unit: 'B',
          ...vs(ref.origin),
        },
        { metric: `${p}: hops per message`, value: ours.hops, unit: 'hops', ...vs(ref.hops) },
        { metric: `${p}: delivery p50`, value: ours.p50, unit: 'ms', ...vs(ref.p50) },
        { metric: `${p}: delivery p99`, value: ours.p99, unit: 'ms', ...vs(ref.p99) },
        {
          metric: `${p}: deliveries the tree missed (mailbox sync), of ${tree.latencies.length}`,
          value: ours.repaired,
          unit: 'deliveries',
        },
        { metric: `${p}: stand-ins for silent upstream members`, value: tree.standIns, unit: 'stand-ins' },
      )
      rows.push({ metric: `${p}: packet size`, value: tree.packetBytes, unit: 'B' })
    }
    const chunk = MAX_FRAME_BYTES - DATA_HEADER_BYTES
    const packet = rows.at(-1)!.value
    rows.push({
      metric: `envelope bytes per hop for a ${packet}-byte packet (${chunk} B of packet per envelope)`,
      value: Math.ceil(packet / chunk) * ENVELOPE_LENGTH,
      unit: 'B',
    })
    return rows
  },
}

export default suite

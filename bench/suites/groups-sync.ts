import { defaultConfig } from '../../bridge/config/schema.js'
import { nativeBackend } from '../../bridge/crypto/native.js'
import type { TestnetNode } from '../../bridge/dht/testnet.js'
import { networkGroupMailbox } from '../../bridge/gateway/groups/mailbox-port.js'
import { groupMailboxIdentity } from '../../bridge/messaging/groups/keys.js'
import { mailboxPeriods, mailboxPeriodsSince } from '../../bridge/onion/mailbox-address.js'
import type { MailboxClient } from '../../bridge/onion/mailbox-client.js'
import { ENVELOPE_LENGTH } from '../../bridge/wire/envelope.js'
import type { BenchRow, BenchSuite } from '../harness.js'
import { type MailboxTestnet, startMailboxTestnet } from '../mailbox-testnet.js'

/**
 * The group mailbox sync (docs/groups.md "Group mailbox sync cost"): every
 * groups.syncIntervalMs each member fetches the group mailbox of every epoch
 * it holds a key of — every period an item may still live in (retention /
 * period + 1 = 15) on return (a full round), the periods since the previous
 * sync (two, usually) on the timer (a routine round). Nothing is ever acked.
 * "before": as the gateway fetched before FETCH cursors, from all k + 2
 * holders, every round downloading again every item still stored in the
 * periods it asks. "after": as it fetches now (networkGroupMailbox), with a
 * cursor per holder and mailbox, and routine rounds at
 * groups.routineSyncHolders of them. Measured on a real 12-node testnet
 * (default mailbox config, circuits already built), for 1 and 10 groups of
 * one epoch each, with empty mailboxes and with items waiting: time, bytes on
 * the wire (every hop of every circuit) and at the member's node, the fetch
 * requests the holders answered and the items they sent.
 */
const TESTNET_NODES = 12
const ITEMS = 20

const random = (n: number) => globalThis.crypto.getRandomValues(new Uint8Array(n))

/** One group's mailbox identity for one epoch, as a member derives it. */
const groupMailbox = () => groupMailboxIdentity(nativeBackend, random(32), 1, random(32))
type GroupMailbox = ReturnType<typeof groupMailbox>

/** Counts the fetch requests every holder of the testnet answers, and the items it sends. */
function countFetches(net: MailboxTestnet): () => { requests: number; items: number } {
  const count = { requests: 0, items: 0 }
  for (const holder of net.holders) {
    const fetch = holder.fetch.bind(holder)
    holder.fetch = async (f, binding) => {
      const answer = await fetch(f, binding)
      count.requests++
      count.items += answer.items.length
      return answer
    }
  }
  return () => ({ ...count })
}

/** What one member's node sent and received on its overlay socket. */
const ownBytes = (node: TestnetNode) => {
  const { overlay } = node.udp.counters()
  return overlay.bytesOut + overlay.bytesIn
}

type Fetch = (identity: GroupMailbox) => Promise<readonly unknown[]>

async function round(
  net: MailboxTestnet,
  fetches: ReturnType<typeof countFetches>,
  node: TestnetNode,
  mailboxes: GroupMailbox[],
  fetch: Fetch,
) {
  const bytes = net.overlayBytes()
  const own = ownBytes(node)
  const counted = fetches()
  const started = performance.now()
  let items = 0
  // As GroupMember.fetchAll does: one group (and epoch) after the other.
  for (const identity of mailboxes) items += (await fetch(identity)).length
  const { requests, items: sent } = fetches()
  return {
    ms: performance.now() - started,
    bytes: net.overlayBytes() - bytes,
    own: ownBytes(node) - own,
    requests: requests - counted.requests,
    sent: sent - counted.items,
    items,
  }
}

async function syncCost(): Promise<BenchRow[]> {
  const net = await startMailboxTestnet(TESTNET_NODES)
  const fetches = countFetches(net)
  try {
    const { mailbox } = net
    const { syncIntervalMs, routineSyncHolders } = defaultConfig().groups
    const periods = mailboxPeriods(Date.now(), mailbox.periodMs, mailbox.retentionMs).length
    const sender = net.clientOn(net.testnet.nodes[0]!)
    const node = net.testnet.nodes[1]!
    const client: MailboxClient = net.clientOn(node)
    const port = networkGroupMailbox({
      client: () => client,
      mailbox,
      routineHolders: routineSyncHolders,
      now: Date.now,
    })
    const recent = () =>
      mailboxPeriodsSince(Date.now(), Date.now() - syncIntervalMs, mailbox.periodMs, mailbox.retentionMs)
    const before = {
      full: (id: GroupMailbox) => client.fetch(id),
      routine: (id: GroupMailbox) => client.fetch(id, { periods: recent() }),
    }
    const after = {
      full: (id: GroupMailbox) => port.fetch(id),
      routine: (id: GroupMailbox) => port.fetch(id, Date.now() - syncIntervalMs),
    }
    const groups = Array.from({ length: 10 }, groupMailbox)
    const one = groups.slice(0, 1)
    // Circuits first (to every holder: the warm-up fetches every period of one group).
    await round(net, fetches, node, [groupMailbox()], before.full)
    const rows: BenchRow[] = []
    const report = (label: string, r: Awaited<ReturnType<typeof round>>, expected?: number) => {
      if (expected !== undefined && r.items !== expected)
        throw new Error(`${label}: fetched ${r.items} of ${expected} items`)
      rows.push(
        { metric: `sync round, ${label}`, value: r.ms, unit: 'ms' },
        { metric: `sync round, ${label}`, value: r.bytes / 1024, unit: 'KiB on the wire' },
        { metric: `sync round, ${label}`, value: r.own / 1024, unit: "KiB at the member's node" },
        { metric: `sync round, ${label}`, value: r.requests, unit: 'holder fetches' },
        { metric: `sync round, ${label}`, value: r.sent, unit: 'items sent by holders' },
      )
    }
    for (const [name, way] of [
      ['before', before],
      ['after', after],
    ] as const) {
      report(`${name}: 1 group, empty, full (on return)`, await round(net, fetches, node, one, way.full))
      report(`${name}: 10 groups, empty, full (on return)`, await round(net, fetches, node, groups, way.full))
      report(`${name}: 1 group, empty, routine`, await round(net, fetches, node, one, way.routine))
      report(`${name}: 10 groups, empty, routine`, await round(net, fetches, node, groups, way.routine))
    }
    for (let i = 0; i < ITEMS; i++) await sender.deposit(groups[0]!.publicKey, random(ENVELOPE_LENGTH))
    const waiting = `1 group, ${ITEMS} items of today waiting`
    report(`before: ${waiting}, full`, await round(net, fetches, node, one, before.full), ITEMS)
    report(
      `before: ${waiting}, routine (fetched again every round)`,
      await round(net, fetches, node, one, before.routine),
      ITEMS,
    )
    report(`after: ${waiting}, full`, await round(net, fetches, node, one, after.full), ITEMS)
    report(`after: ${waiting}, routine after it`, await round(net, fetches, node, one, after.routine), 0)
    await sender.deposit(groups[0]!.publicKey, random(ENVELOPE_LENGTH))
    report(`after: ${waiting}, 1 new, routine`, await round(net, fetches, node, one, after.routine), 1)
    const perDay = (24 * 60 * 60 * 1000) / syncIntervalMs
    rows.push({ metric: 'periods fetched per group and epoch', value: periods, unit: 'periods' })
    rows.push({ metric: 'sync rounds a day (groups.syncIntervalMs)', value: perDay, unit: 'rounds' })
    sender.stop()
    client.stop()
    return rows
  } finally {
    await net.stop()
  }
}

const suite: BenchSuite = {
  name: 'groups-sync',
  run: syncCost,
}

export default suite

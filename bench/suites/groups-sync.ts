import { defaultConfig } from '../../bridge/config/schema.js'
import { nativeBackend } from '../../bridge/crypto/native.js'
import type { TestnetNode } from '../../bridge/dht/testnet.js'
import { groupMailboxIdentity } from '../../bridge/messaging/groups/keys.js'
import { mailboxPeriods, mailboxPeriodsSince } from '../../bridge/onion/mailbox-address.js'
import type { MailboxClient } from '../../bridge/onion/mailbox-client.js'
import { ENVELOPE_LENGTH } from '../../bridge/wire/envelope.js'
import type { BenchRow, BenchSuite } from '../harness.js'
import { type MailboxTestnet, startMailboxTestnet } from '../mailbox-testnet.js'

/**
 * The group mailbox sync (docs/groups.md "Group mailbox sync cost"): every
 * groups.syncIntervalMs each member fetches the group mailbox of every epoch
 * it holds a key of, for every period an item may still live in (retention /
 * period + 1 = 15) on return, only those since the previous sync (two,
 * usually) on the timer's routine rounds, from k + 2 holders each — and
 * nothing is ever acked, so every sync downloads again every item still
 * stored in the periods it asks. Measured on a real 12-node testnet (default
 * mailbox config, circuits already built): full and routine rounds for 1 and
 * 10 groups of one epoch each, with empty mailboxes and with items waiting;
 * time, bytes on the wire (every hop of every circuit) and at the member's
 * node, and fetch requests the holders answered.
 */
const TESTNET_NODES = 12
const ITEMS = 20

const random = (n: number) => globalThis.crypto.getRandomValues(new Uint8Array(n))

/** One group's mailbox identity for one epoch, as a member derives it. */
const groupMailbox = () => groupMailboxIdentity(nativeBackend, random(32), 1, random(32))

/** Counts the fetch requests every holder of the testnet answers. */
function countFetches(net: MailboxTestnet): () => number {
  let count = 0
  for (const holder of net.holders) {
    const fetch = holder.fetch.bind(holder)
    holder.fetch = (f, binding) => {
      count++
      return fetch(f, binding)
    }
  }
  return () => count
}

/** What one member's node sent and received on its overlay socket. */
const ownBytes = (node: TestnetNode) => {
  const { overlay } = node.udp.counters()
  return overlay.bytesOut + overlay.bytesIn
}

async function round(
  net: MailboxTestnet,
  fetches: () => number,
  client: { node: TestnetNode; mailbox: MailboxClient },
  mailboxes: ReturnType<typeof groupMailbox>[],
  periods?: number[],
) {
  const bytes = net.overlayBytes()
  const own = ownBytes(client.node)
  const requests = fetches()
  const started = performance.now()
  let items = 0
  // As GroupMember.fetchAll does: one group (and epoch) after the other.
  for (const identity of mailboxes) items += (await client.mailbox.fetch(identity, periods)).length
  return {
    ms: performance.now() - started,
    bytes: net.overlayBytes() - bytes,
    own: ownBytes(client.node) - own,
    requests: fetches() - requests,
    items,
  }
}

async function syncCost(): Promise<BenchRow[]> {
  const net = await startMailboxTestnet(TESTNET_NODES)
  const fetches = countFetches(net)
  try {
    const { mailbox } = net
    const { syncIntervalMs } = defaultConfig().groups
    const periods = mailboxPeriods(Date.now(), mailbox.periodMs, mailbox.retentionMs).length
    const sender = net.clientOn(net.testnet.nodes[0]!)
    const node = net.testnet.nodes[1]!
    const member = { node, mailbox: net.clientOn(node) }
    const groups = Array.from({ length: 10 }, groupMailbox)
    // Circuits first (to every holder: the warm-up fetches every period of one group).
    await round(net, fetches, member, [groupMailbox()])
    const rows: BenchRow[] = []
    const report = (label: string, r: Awaited<ReturnType<typeof round>>) =>
      rows.push(
        { metric: `sync round, ${label}`, value: r.ms, unit: 'ms' },
        { metric: `sync round, ${label}`, value: r.bytes / 1024, unit: 'KiB on the wire' },
        { metric: `sync round, ${label}`, value: r.own / 1024, unit: "KiB at the member's node" },
        { metric: `sync round, ${label}`, value: r.requests, unit: 'holder fetches' },
      )
    report('1 group, empty, full (on return)', await round(net, fetches, member, groups.slice(0, 1)))
    report('10 groups, empty, full (on return)', await round(net, fetches, member, groups))
    // What the timer fetches: the periods since the previous sync (GroupMember.catchUp).
    const now = Date.now()
    const recent = mailboxPeriodsSince(now, now - syncIntervalMs, mailbox.periodMs, mailbox.retentionMs)
    report('1 group, empty, routine', await round(net, fetches, member, groups.slice(0, 1), recent))
    report('10 groups, empty, routine', await round(net, fetches, member, groups, recent))
    for (let i = 0; i < ITEMS; i++) await sender.deposit(groups[0]!.publicKey, random(ENVELOPE_LENGTH))
    const full = await round(net, fetches, member, groups.slice(0, 1))
    if (full.items !== ITEMS) throw new Error(`fetched ${full.items} of ${ITEMS} items`)
    report(`1 group, ${ITEMS} items waiting, full`, full)
    const routine = await round(net, fetches, member, groups.slice(0, 1), recent)
    if (routine.items !== ITEMS) throw new Error(`fetched ${routine.items} of ${ITEMS} items`)
    report(`1 group, ${ITEMS} items of today waiting, routine (fetched again every round)`, routine)
    const perDay = (24 * 60 * 60 * 1000) / syncIntervalMs
    rows.push({ metric: 'periods fetched per group and epoch', value: periods, unit: 'periods' })
    rows.push({ metric: 'sync rounds a day (groups.syncIntervalMs)', value: perDay, unit: 'rounds' })
    sender.stop()
    member.mailbox.stop()
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

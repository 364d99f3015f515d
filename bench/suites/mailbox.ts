import { defaultConfig } from '../../bridge/config/schema.js'
import { generateIdentity } from '../../bridge/crypto/identity.js'
import { checkStamp, mintStamp } from '../../bridge/crypto/stamp.js'
import { periodAt } from '../../bridge/dht/period.js'
import { closestTo, mailboxAddress, placedRelays } from '../../bridge/onion/mailbox-address.js'
import { ENVELOPE_LENGTH } from '../../bridge/wire/envelope.js'
import { type BenchRow, type BenchSuite, opsPerSecond, percentile } from '../harness.js'
import { type ChurnModel, simulateChurn } from '../mailbox-churn-sim.js'
import { type MailboxTestnet, startMailboxTestnet } from '../mailbox-testnet.js'

/**
 * Mailboxes: what a stamp costs the sender at the default difficulty (one per
 * envelope, whatever the number of holders) and a holder to check; deposit,
 * fetch and ack cost per message on a real 12-node testnet (k = 5, default
 * difficulty, circuits already built; bytes are UDP payloads of every node's
 * overlay socket, so every hop of every circuit counts); and the share of
 * mailbox items still fetchable after days of churn on a simulated 200-node
 * network, with handoff and without (the model: bench/mailbox-churn-sim.ts).
 */
const STAMPS = 12
const TESTNET_NODES = 12
const MESSAGES = 20

async function stamps(): Promise<BenchRow[]> {
  const difficulty = defaultConfig().mailbox.stampDifficulty
  const item = new Uint8Array(ENVELOPE_LENGTH).fill(7)
  const mailboxId = new Uint8Array(20).fill(1)
  const times: number[] = []
  let stamp: Uint8Array = new Uint8Array(8)
  for (let i = 0; i < STAMPS; i++) {
    const expiry = 1_800_000_000 + i
    const started = performance.now()
    stamp = mintStamp({ mailboxId, item, expiry }, difficulty)
    times.push(performance.now() - started)
  }
  const last = { mailboxId, item, expiry: 1_800_000_000 + STAMPS - 1 }
  return [
    { metric: `stamp, difficulty ${difficulty} (median)`, value: percentile(times, 50), unit: 'ms' },
    { metric: `stamp, difficulty ${difficulty} (p90)`, value: percentile(times, 90), unit: 'ms' },
    {
      metric: 'stamp check',
      value: await opsPerSecond(() => checkStamp(last, stamp, difficulty)),
      unit: 'checks/s',
    },
  ]
}

/** Milliseconds and overlay bytes per message of `run` over `count` messages. */
async function perMessage(net: MailboxTestnet, count: number, run: () => Promise<unknown>) {
  const bytes = net.overlayBytes()
  const started = performance.now()
  await run()
  return { ms: (performance.now() - started) / count, bytes: (net.overlayBytes() - bytes) / count }
}

async function onTestnet(): Promise<BenchRow[]> {
  const net = await startMailboxTestnet(TESTNET_NODES)
  const { testnet, mailbox, nodeOf, clientOn } = net
  try {
    const bob = generateIdentity()
    const period = periodAt(Date.now(), mailbox.periodMs)
    const { id: mailboxId } = mailboxAddress(bob.publicKey, period)
    // Sender and recipient on the two nodes furthest from the mailbox: neither is one of its holders.
    const far = closestTo(
      mailboxId,
      placedRelays(testnet.nodes[0]!.service.directory, Date.now()),
      TESTNET_NODES,
    )
    const sender = clientOn(nodeOf(far.at(-1)!.id))
    const recipient = clientOn(nodeOf(far.at(-2)!.id))
    const envelope = () => globalThis.crypto.getRandomValues(new Uint8Array(ENVELOPE_LENGTH))
    // Circuits first: one deposit, one (empty) fetch.
    await sender.deposit(generateIdentity().publicKey, envelope())
    await recipient.fetch(bob, { periods: [period] })

    const deposit = await perMessage(net, MESSAGES, async () => {
      for (let i = 0; i < MESSAGES; i++) await sender.deposit(bob.publicKey, envelope())
    })
    let fetched: { id: Uint8Array }[] = []
    const fetch = await perMessage(net, MESSAGES, async () => {
      fetched = await recipient.fetch(bob, { periods: [period] })
    })
    if (fetched.length !== MESSAGES) throw new Error(`fetched ${fetched.length} of ${MESSAGES}`)
    const ack = await perMessage(net, MESSAGES, () =>
      recipient.ack(
        bob,
        fetched.map((f) => f.id),
      ),
    )
    sender.stop()
    recipient.stop()
    const k = mailbox.holders
    return [
      { metric: `deposit with ${k} holders, stamp included (per message)`, value: deposit.ms, unit: 'ms' },
      { metric: `deposit with ${k} holders (per message)`, value: deposit.bytes, unit: 'B on the wire' },
      { metric: `fetch from ${k + 2} holders, one period (per message)`, value: fetch.ms, unit: 'ms' },
      {
        metric: `fetch from ${k + 2} holders, one period (per message)`,
        value: fetch.bytes,
        unit: 'B on the wire',
      },
      { metric: `ack at ${k + 2} holders (per message)`, value: ack.ms, unit: 'ms' },
      { metric: `ack at ${k + 2} holders (per message)`, value: ack.bytes, unit: 'B on the wire' },
    ]
  } finally {
    await net.stop()
  }
}

async function churn(): Promise<BenchRow[]> {
  const rows: BenchRow[] = []
  const checkpoints = [1, 7, 14]
  for (const churnPerHour of [0.01, 0.05]) {
    const model: ChurnModel = {
      nodes: 200,
      churnPerHour,
      mailboxes: 20,
      itemsPerMailbox: 2,
      days: 14,
      checkpoints,
      seed: 7,
    }
    const without = await simulateChurn(model, false)
    const withHandoff = await simulateChurn(model, true)
    for (const [i, day] of checkpoints.entries())
      rows.push({
        metric: `available after ${day} d, ${model.nodes} nodes, ${churnPerHour * 100} %/h churn, k = 5, with handoff`,
        value: withHandoff[i]! * 100,
        unit: '% of items',
        reference: { label: 'no handoff', value: without[i]! * 100 },
      })
  }
  return rows
}

const suite: BenchSuite = {
  name: 'mailbox',
  async run(): Promise<BenchRow[]> {
    return [...(await stamps()), ...(await onTestnet()), ...(await churn())]
  },
}

export default suite

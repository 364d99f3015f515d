import { defaultConfig } from '../../bridge/config/schema.js'
import { checkStamp, mintStamp } from '../../bridge/crypto/stamp.js'
import { ENVELOPE_LENGTH } from '../../bridge/wire/envelope.js'
import { type BenchRow, type BenchSuite, opsPerSecond, percentile } from '../harness.js'

/**
 * Mailbox deposits: what a stamp costs the sender at the default difficulty
 * (one per envelope, whatever the number of holders) and what checking it
 * costs a holder. Deposit/fetch on the wire and availability under churn
 * come with the messenger integration (issue 7, next session).
 */
const STAMPS = 12

const suite: BenchSuite = {
  name: 'mailbox',
  async run(): Promise<BenchRow[]> {
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
  },
}

export default suite

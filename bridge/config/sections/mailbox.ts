import { z } from 'zod'

const MINUTE = 60_000
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR
const MIB = 1024 * 1024

/**
 * Offline delivery through network mailboxes (docs/protocol.md "Mailboxes"):
 * how many holders a deposit goes to, how long items live, the proof-of-work
 * price of a deposit, and what a holder keeps for others. Times are
 * milliseconds. `periodMs` and `stampDifficulty` must be the same on every
 * node of a network (senders and holders must agree on both).
 */
export const mailboxSection = z
  .strictObject({
    /** Keep mailbox items for others while this node is a relay. */
    hold: z.boolean().default(true),
    /** A deposit goes to this many holders: the relays whose DHT ids are closest to the mailbox id. */
    holders: z.number().int().min(1).max(20).default(5),
    /** Mailbox keys change this often; a recipient fetches every period its items may still live in. */
    periodMs: z.number().int().min(HOUR).default(DAY),
    /** How long a sender asks holders to keep an item. */
    retentionMs: z
      .number()
      .int()
      .min(HOUR)
      .max(30 * DAY)
      .default(14 * DAY),
    /** Holder: the furthest expiry it accepts (deposits asking for more are refused as expired). */
    maxRetentionMs: z
      .number()
      .int()
      .min(HOUR)
      .max(30 * DAY)
      .default(30 * DAY),
    /** Proof-of-work bits per started 256 bytes of item (a 959-byte envelope is 4 units). */
    stampDifficulty: z.number().int().min(0).max(32).default(14),
    /** Holder: disk the items of others may take, in bytes; sets the total item quota. */
    diskBudgetBytes: z
      .number()
      .int()
      .min(MIB)
      .default(256 * MIB),
    /** Holder: items kept per mailbox, at most. */
    itemsPerMailbox: z.number().int().min(1).max(100_000).default(2000),
    /** Holder: items sent in answer to one FETCH (the fetcher asks again for more). */
    fetchBatch: z.number().int().min(1).max(255).default(16),
    /** Recipient: each unlocked identity's mailboxes are fetched this often (and when it comes online), ±10 %. */
    fetchIntervalMs: z
      .number()
      .int()
      .min(1000)
      .default(5 * MINUTE),
    /** Sender: worker threads minting deposit stamps, so the bridge stays responsive. */
    stampWorkers: z.number().int().min(1).max(16).default(2),
    /** Holder: expired items are deleted this often. */
    sweepIntervalMs: z
      .number()
      .int()
      .min(1000)
      .default(10 * MINUTE),
    /** Holder: a handoff round (items pushed to the relays newly responsible for their mailboxes) runs this often. */
    handoffIntervalMs: z
      .number()
      .int()
      .min(1000)
      .default(10 * MINUTE),
    /** Holder: this often it checks whether the relay directory changed (or a round left work), and runs a round if so. */
    handoffCheckMs: z
      .number()
      .int()
      .min(1000)
      .default(30 * 1000),
    /** Holder: deposits one handoff round sends, at most (the rest wait for the next round). */
    handoffPushesPerRound: z.number().int().min(1).max(100_000).default(500),
  })
  .prefault({})

export type MailboxConfig = z.infer<typeof mailboxSection>

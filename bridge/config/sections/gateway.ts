import { z } from 'zod'

const SECOND = 1000
const MINUTE = 60 * SECOND

/** The XMPP ↔ network gateway: who may reach the user, and what presence costs. Times are milliseconds. */
export const gatewaySection = z
  .strictObject({
    /** Show chat messages from addresses that are not contacts (false: keep them as requests). */
    acceptStrangerMessages: z.boolean().default(false),
    /** Messages from strangers kept as requests per account, at most (the oldest go first). */
    heldRequestsPerAccount: z.number().int().min(0).max(100_000).default(200),
    /** Presence sent to one contact at most this often (changes in between are merged into the last one). */
    presenceMinIntervalMs: z
      .number()
      .int()
      .min(0)
      .default(2 * SECOND),
    /** Presence is repeated to mutual contacts this often, so they notice when this bridge vanishes. */
    presenceHeartbeatMs: z
      .number()
      .int()
      .min(SECOND)
      .default(5 * MINUTE),
    /** A contact heard from for no more than this many heartbeats is shown offline. */
    presenceMissedHeartbeats: z.number().min(1).max(100).default(2.5),
    /** Client ↔ network message ids remembered per contact (receipts and corrections of older messages lose their link). */
    idsPerContact: z.number().int().min(1).max(1_000_000).default(5000),
    /** Longest request text (characters) sent or shown with a contact request. */
    maxRequestTextChars: z.number().int().min(0).max(2000).default(500),
  })
  .prefault({})

export type GatewayConfig = z.infer<typeof gatewaySection>

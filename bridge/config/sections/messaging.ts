import { z } from 'zod'

const SECOND = 1000
const MINUTE = 60 * SECOND
const HOUR = 60 * MINUTE
const KIB = 1024

/**
 * End-to-end messaging: envelope keys (prekeys), the outbox's retries, the
 * receiver's reassembly and ordering. Times are milliseconds.
 */
export const messagingSection = z
  .strictObject({
    /** A new prekey (the receiving half of forward secrecy) is made this often. */
    prekeyRotationMs: z.number().int().min(MINUTE).default(HOUR),
    /** A prekey's private half is deleted this long after it was made: the forward-secrecy window. */
    prekeyLifetimeMs: z
      .number()
      .int()
      .min(2 * MINUTE)
      .default(24 * HOUR),
    /** Largest message body accepted from a client or a peer (chunked over the network). */
    maxMessageBytes: z
      .number()
      .int()
      .min(64 * KIB)
      .max(1024 * KIB)
      .default(64 * KIB),
    /** Chunks sent to one contact and not yet acknowledged, at most. */
    windowChunks: z.number().int().min(1).max(1024).default(32),
    /** A chunk without acknowledgement is sent again after this long (then doubling). */
    retryInitialMs: z
      .number()
      .int()
      .min(100)
      .default(3 * SECOND),
    /** Longest wait between two attempts. */
    retryMaxMs: z
      .number()
      .int()
      .min(SECOND)
      .default(5 * MINUTE),
    /** A contact that acknowledged nothing for this long while we had something for it counts as unreachable. */
    unreachableAfterMs: z
      .number()
      .int()
      .min(SECOND)
      .default(45 * SECOND),
    /** A receiver holds a message this long for an earlier one still missing, then shows it anyway. */
    holdTimeoutMs: z
      .number()
      .int()
      .min(SECOND)
      .default(2 * MINUTE),
    /** Messages waiting in the outbox for one contact, at most (a client gets resource-constraint beyond). */
    outboxPerContact: z.number().int().min(10).max(1_000_000).default(10_000),
    /** Partly received messages kept per sender, at most (the rest is dropped unacknowledged). */
    reassemblyPerSender: z.number().int().min(1).max(1000).default(16),
    /**
     * Offline delivery: pending messages go to the contact's mailbox when it has no
     * rendezvous record, or acknowledged nothing for this long.
     */
    depositAfterMs: z.number().int().min(SECOND).default(MINUTE),
    /** A message still unacknowledged is deposited again this long after (holders may have left). */
    redepositIntervalMs: z
      .number()
      .int()
      .min(MINUTE)
      .default(12 * HOUR),
    /** A deposit fewer holders took is tried again sooner (depositAfterMs, doubling); at most mailbox.holders. */
    depositMinHolders: z.number().int().min(1).max(20).default(3),
    /** Chunks (one stamp each) of one contact's oldest messages kept deposited at a time; the rest wait. */
    depositChunksPerContact: z.number().int().min(1).max(100_000).default(500),
  })
  .prefault({})

export type MessagingConfig = z.infer<typeof messagingSection>

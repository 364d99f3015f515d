import { z } from 'zod'

const SECOND = 1000
const MINUTE = 60 * SECOND

/**
 * Onion tunnels: circuit shapes, lifetimes, tunnel tests and the limits a
 * relay enforces on the forwarding state others make it keep. Times are
 * milliseconds.
 */
export const onionSection = z
  .strictObject({
    /** Inbound tunnels (each to its own intro point) per local identity. */
    inboundTunnels: z.number().int().min(1).max(10).default(3),
    /** Hops of an inbound tunnel, the intro point included. */
    inboundHops: z.number().int().min(2).max(5).default(2),
    /** Hops of an outbound path, the intro point it reaches excluded. */
    outboundHops: z.number().int().min(2).max(5).default(2),
    /** A circuit is used this long, then replaced (the relays forget it a little later). */
    circuitLifetimeMs: z
      .number()
      .int()
      .min(10 * SECOND)
      .default(10 * MINUTE),
    /** Replacement circuits are built this long before the old ones expire. */
    rebuildAheadMs: z.number().int().min(SECOND).default(MINUTE),
    /** A CREATE, EXTEND or intro request without an answer fails after this long. */
    replyTimeoutMs: z
      .number()
      .int()
      .min(50)
      .default(5 * SECOND),
    /** Each tunnel is tested end to end this often. */
    testIntervalMs: z
      .number()
      .int()
      .min(100)
      .default(15 * SECOND),
    /** Relay: circuits it forwards for others, at most (the memory bound: each is a few hundred bytes). */
    maxRelayCircuits: z.number().int().min(1).max(1_000_000).default(20_000),
    /** Relay: circuits registered at it as an intro point, at most. */
    maxIntroRegistrations: z.number().int().min(1).max(1_000_000).default(5000),
    /** Sequence numbers remembered per circuit and direction against replays (rounded up to 32). */
    replayWindow: z.number().int().min(32).max(65_536).default(1024),
    /** Reputation change of a relay on a circuit that failed (build or test). */
    failurePenalty: z.number().min(0).max(100).default(1),
    /** Reputation change of each relay of a circuit that passed a test. */
    successReward: z.number().min(0).max(100).default(0.1),
  })
  .prefault({})

export type OnionConfig = z.infer<typeof onionSection>

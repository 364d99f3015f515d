import { z } from 'zod'

const MINUTE = 60_000
const HOUR = 60 * MINUTE

/** "host:port" with an IPv4 address or a name (bittorrent-dht speaks IPv4 only). */
const hostPort = z.string().regex(/^[^:\s]+:\d{1,5}$/, 'expected host:port')

/**
 * The DHT (bittorrent-dht over the node's one UDP socket): how to join, how
 * long records live, how often we republish, how relays are found and chosen.
 * Times are milliseconds. Tests and the testnet shorten them.
 */
export const dhtSection = z
  .strictObject({
    /**
     * DHT nodes to join through ("host:port"). Empty: this node waits to be
     * contacted (a bootstrap node). Never left to bittorrent-dht's own default,
     * which would contact the public BitTorrent routers.
     */
    bootstrap: z.array(hostPort).default([]),
    /** Kademlia bucket size k (also how many nodes store each record). */
    k: z.number().int().min(2).max(64).default(20),
    /** Parallel KRPC queries per lookup. */
    concurrency: z.number().int().min(1).max(64).default(16),
    /** A KRPC query without a reply fails after 1–1.25× this. */
    queryTimeoutMs: z.number().int().min(50).max(60_000).default(2000),
    /** BEP 44 items this node stores for others (LRU beyond this; bittorrent-dht never expires them by time). */
    maxStoredValues: z.number().int().min(10).max(1_000_000).default(1000),
    /** Announced peers (BEP 5) this node keeps for others. */
    maxStoredPeers: z.number().int().min(10).max(1_000_000).default(10_000),
    /** Announced peers are forgotten after this long (mainline nodes use about 30 min). */
    peerMaxAgeMs: z
      .number()
      .int()
      .min(1000)
      .default(30 * MINUTE),
    /** Our own records are re-signed and put again this often (mainline nodes forget values after ~2 h). */
    republishIntervalMs: z
      .number()
      .int()
      .min(100)
      .default(20 * MINUTE),
    /** Expiry written (signed) into each record we publish; must exceed the republish interval. */
    recordTtlMs: z
      .number()
      .int()
      .min(1000)
      .default(2 * HOUR),
    /** After a rejoin that found no node (still cut off), try again this soon. */
    rejoinRetryMs: z.number().int().min(100).default(10_000),
    /** Records whose expiry lies further ahead than this are refused (no "forever" records). */
    maxRecordTtlMs: z
      .number()
      .int()
      .min(1000)
      .default(24 * HOUR),
    /** Clock difference tolerated when checking a record's or descriptor's expiry. */
    clockSkewMs: z
      .number()
      .int()
      .min(0)
      .default(5 * MINUTE),
    /** Length of a blinded-key time period; every node of a network must use the same value. */
    periodMs: z
      .number()
      .int()
      .min(1000)
      .default(24 * HOUR),
    /** Before a period ends, records are also published (and looked up) under the next period's key. */
    periodOverlapMs: z
      .number()
      .int()
      .min(0)
      .default(2 * HOUR),
    /** Relays re-announce the relay info-hash this often. */
    announceIntervalMs: z
      .number()
      .int()
      .min(100)
      .default(15 * MINUTE),
    /** After an announce reached no node (alone in the network, say), retry this soon. */
    announceRetryMs: z.number().int().min(100).default(10_000),
    /** Lifetime written into our signed node descriptor; re-signed well before. */
    descriptorTtlMs: z
      .number()
      .int()
      .min(1000)
      .default(3 * HOUR),
    /** Directory entries not seen (announce or descriptor) for this long are dropped. */
    relayStaleMs: z.number().int().min(1000).default(HOUR),
    /** Relays whose reputation score falls below this are skipped. */
    minRelayScore: z.number().default(-5),
    /** Prefer relays in distinct IPv4 /16 networks (a testnet on 127.0.0.1 turns this off). */
    distinctSubnets: z.boolean().default(true),
  })
  // Records must be republished before they expire, and before the next period begins.
  .refine((dht) => dht.republishIntervalMs < dht.recordTtlMs, {
    message:
      'republishIntervalMs must be shorter than recordTtlMs (records would expire between republishes)',
    path: ['republishIntervalMs'],
  })
  .refine((dht) => dht.republishIntervalMs < dht.periodOverlapMs, {
    message:
      'republishIntervalMs must be shorter than periodOverlapMs (a new period would start unpublished)',
    path: ['republishIntervalMs'],
  })
  .refine((dht) => dht.recordTtlMs <= dht.maxRecordTtlMs, {
    message: 'recordTtlMs must not exceed maxRecordTtlMs (our own records would be refused)',
    path: ['recordTtlMs'],
  })
  .prefault({})

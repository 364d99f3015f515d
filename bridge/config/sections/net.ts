import { z } from 'zod'

const SECOND = 1000
const MINUTE = 60 * SECOND

/**
 * The node's UDP socket and its encrypted links (bridge/net). Times are
 * milliseconds; tests and the testnet shorten them.
 */
export const netSection = z
  .strictObject({
    /** Join the peer-to-peer network (false: local accounts only, e.g. tests of the XMPP side alone). */
    enabled: z.boolean().default(true),
    /**
     * Address the one UDP socket binds to (IPv4: bittorrent-dht speaks nothing else).
     * A bridge relays for others only when this is a specific address, the one it
     * announces; on 0.0.0.0 (every interface) it uses the network without relaying.
     * The local testnet sets 127.0.0.1.
     */
    host: z.ipv4().default('0.0.0.0'),
    /** UDP port; 0 picks a free one at each start (peers learn it from the DHT). */
    port: z.number().int().min(0).max(65_535).default(0),
    /**
     * File holding this node's 32-byte key (relay role, separate from identities).
     * Empty: a fresh key at each start. A path: the key is read from it, or created there (mode 0600).
     */
    nodeKeyFile: z.string().default(''),
    /** A link sends a keepalive when it has sent nothing for this long (also keeps NAT mappings open). */
    keepaliveIntervalMs: z
      .number()
      .int()
      .min(10)
      .default(15 * SECOND),
    /** A link that has received nothing for this long is down. */
    linkIdleTimeoutMs: z.number().int().min(50).default(MINUTE),
    /** The initiator of a link runs a fresh handshake (new keys) after this long… */
    rekeyAfterMs: z
      .number()
      .int()
      .min(100)
      .default(2 * MINUTE),
    /** …or after this many packets sent under one key, whichever comes first. */
    rekeyAfterMessages: z
      .number()
      .int()
      .min(16)
      .max(2 ** 48)
      .default(2 ** 32),
    /** Keys older than this are never used again: the link goes down if no rekey succeeded. */
    rejectAfterMs: z
      .number()
      .int()
      .min(100)
      .default(3 * MINUTE),
    /** A handshake message without an answer is sent again after this long, then twice as long each time. */
    handshakeRetryMs: z.number().int().min(10).default(SECOND),
    /** connect() gives up after this long without an answer. */
    handshakeTimeoutMs: z
      .number()
      .int()
      .min(50)
      .default(10 * SECOND),
    /** A link that went down retries its handshake with back-off up to this interval, until it is closed. */
    reconnectMaxBackoffMs: z
      .number()
      .int()
      .min(10)
      .default(30 * SECOND),
    /** Packets per link remembered against replay (a multiple of 32); later ones beyond it are refused. */
    replayWindow: z.number().int().min(64).max(65_536).default(1024),
    /** Handshake initiations processed per second, all sources together (each costs two X25519 operations). */
    handshakesPerSecond: z.number().int().min(1).default(500),
    /** Handshake initiations processed per second from one IP address. */
    handshakesPerSecondPerHost: z.number().int().min(1).default(20),
    /** Established links, both directions together; more are refused. */
    maxLinks: z.number().int().min(1).default(4096),
    /** Answered initiations whose initiator has not yet confirmed (half-open links). */
    maxPendingHandshakes: z.number().int().min(1).default(1024),
    /** How often local network interfaces are compared with the last look (address changes → rejoin). */
    interfaceCheckIntervalMs: z
      .number()
      .int()
      .min(100)
      .default(10 * SECOND),
  })
  .prefault({})

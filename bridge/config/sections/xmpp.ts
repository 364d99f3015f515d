import { z } from 'zod'

const port = z.number().int().min(0).max(65535)

/** The local XMPP server (C2S) that Jabber clients log in to. */
export const xmppSection = z
  .strictObject({
    /**
     * The server's domain: accounts are <nickname>@<domain>, remote contacts
     * <address>@<domain>. "*.localhost" names resolve to the loopback address
     * (RFC 6761 §6.3), so clients find the bridge without any DNS entry.
     */
    domain: z.string().min(1).max(253).default('paranoim.localhost'),
    /** Address to listen on; a home server may bind a LAN address. */
    host: z.string().min(1).default('127.0.0.1'),
    /** Client port with STARTTLS (RFC 6120). 0 picks a free port. */
    port: port.default(5222),
    /** Offer direct TLS (XEP-0368) on tlsPort besides STARTTLS on port. */
    directTls: z.boolean().default(true),
    /** Direct TLS port; 0 picks a free port. */
    tlsPort: port.default(5223),
    /** Refuse authentication on an unencrypted stream. */
    requireStartTls: z.boolean().default(true),
    /** PEM certificate and key; empty: a self-signed certificate kept in the data dir. */
    certFile: z.string().default(''),
    keyFile: z.string().default(''),
    limits: z
      .strictObject({
        /** Largest stanza (bytes, counted as received) before a policy-violation stream error. */
        maxStanzaBytes: z.number().int().min(1024).default(262_144),
        /** Deepest element nesting, the stream element included. */
        maxDepth: z.number().int().min(4).max(1000).default(32),
        /** Concurrent connections from one IP address. */
        maxConnectionsPerIp: z.number().int().min(1).default(100),
        /** Milliseconds a connection may take to authenticate and bind. */
        negotiationTimeoutMs: z.number().int().min(100).default(60_000),
        /** Failed logins per IP address per minute; beyond it, logins are refused until the minute is over. */
        authFailuresPerMinute: z.number().int().min(1).default(10),
        /** Sustained stanzas per second per connection (token bucket); beyond it, policy-violation. */
        stanzasPerSecond: z.number().positive().default(200),
        /** Burst allowed above the sustained stanza rate. */
        stanzaBurst: z.number().int().min(1).default(1000),
        /** Milliseconds an XEP-0198 session stays resumable after its connection drops. */
        smResumeTimeoutMs: z.number().int().min(0).default(300_000),
        /** Unacknowledged stanzas kept per session before the stream is closed. */
        smMaxUnacked: z.number().int().min(10).default(5000),
        /** Offline messages kept per account; beyond it, senders get resource-constraint. */
        offlineQueue: z.number().int().min(0).default(1000),
        /** Roster entries per account. */
        maxRosterItems: z.number().int().min(1).default(10_000),
        /** Resources (sessions) per account. */
        maxResources: z.number().int().min(1).default(20),
      })
      .prefault({}),
    /** XEP-0313 message archive of each account's own chat history, kept only on this bridge. */
    archive: z
      .strictObject({
        /** Off: nothing is archived and archive queries are refused (and not advertised). */
        enabled: z.boolean().default(true),
        /** Days a message is kept; 0 keeps it until deleted with the account. */
        retentionDays: z.number().int().min(0).default(90),
        /** Most messages one archive query returns per page (XEP-0059 paging). */
        maxPageSize: z.number().int().min(1).max(1000).default(100),
      })
      .prefault({}),
    /** XEP-0045 multi-user chat at conference.<domain> (bridge/xmpp/modules/muc/). */
    muc: z
      .strictObject({
        /** Off: no MUC service (not advertised; stanzas to it go to the network like any other domain). */
        enabled: z.boolean().default(true),
        /** Rooms on this bridge at once; creating one more is refused (resource-constraint). */
        maxRooms: z.number().int().min(1).default(1000),
        /** Rooms one account may have created and still existing. */
        maxRoomsPerAccount: z.number().int().min(1).default(50),
        /** Occupants per room (an owner may set a lower muc#roomconfig_maxusers). */
        maxOccupants: z.number().int().min(1).default(200),
        /** Groupchat messages kept per room for history on join (persistent rooms keep them across restarts). */
        historyMessages: z.number().int().min(0).max(1000).default(50),
        /** Largest groupchat or private message, in bytes of XML; beyond it, policy-violation. */
        maxMessageBytes: z.number().int().min(256).default(16_384),
        /** Longest room nickname, in characters. */
        maxNickLength: z.number().int().min(1).max(1023).default(64),
      })
      .prefault({}),
  })
  .prefault({})

export type XmppConfig = z.infer<typeof xmppSection>

import { z } from 'zod'

/**
 * The localhost web UI. A bind outside loopback (a home server) is allowed only
 * with TLS and an admin password; webui/server/options.ts refuses anything else
 * at start-up with a ConfigError.
 */
export const webuiSection = z
  .strictObject({
    /** Serve the web UI at all (a headless home server may turn it off). */
    enabled: z.boolean().default(true),
    /** Bind address. Anything but 127.0.0.1 / ::1 / localhost needs tls and adminPassword. */
    host: z.string().min(1).default('127.0.0.1'),
    /** TCP port; 0 picks a free one (tests). */
    port: z.number().int().min(0).max(65535).default(7070),
    /**
     * Extra Host names the UI answers to besides 127.0.0.1, localhost and [::1]
     * (e.g. "paranoim.home"); every other Host header is refused (DNS rebinding).
     */
    allowedHosts: z.array(z.string().min(1)).default([]),
    tls: z
      .strictObject({
        /** PEM certificate file; with key, the UI speaks HTTPS only. */
        cert: z.string().default(''),
        /** PEM private key file. */
        key: z.string().default(''),
      })
      .prefault({}),
    /**
     * Needed to create identities on a non-loopback bind, where "first run" cannot
     * mean "the person at this machine". Keep the config file private.
     */
    adminPassword: z.string().default(''),
    /** Largest request body accepted, in KiB (a sealed key is < 1 KiB; binding imports are the big ones). */
    maxBodyKiB: z.number().int().min(4).max(16_384).default(256),
    session: z
      .strictObject({
        /** Idle minutes before a login session ends. */
        idleMinutes: z.number().int().min(1).max(1440).default(30),
        /** Sessions kept in memory at most (anonymous ones included); the oldest go first. */
        maxSessions: z.number().int().min(10).max(100_000).default(1000),
      })
      .prefault({}),
    login: z
      .strictObject({
        /** Login (and admin password) attempts per client address per window. */
        maxAttempts: z.number().int().min(1).max(1000).default(10),
        /** Rate-limit window in seconds. */
        windowSeconds: z.number().int().min(1).max(86_400).default(300),
      })
      .prefault({}),
  })
  .prefault({})

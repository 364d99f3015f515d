import type { XmppConfig } from '../config/sections/xmpp.js'
import type { XmppServer } from '../xmpp/server.js'

/**
 * What the bridge reports about itself (`bridge.status()`), as the web UI
 * shows it. A part that does not run yet is null, and the pages say so rather
 * than showing invented zeros.
 */
export interface BridgeStatus {
  /** Milliseconds since the epoch. */
  startedAt: number
  xmpp: XmppStatus | null
  network: NetworkStatus | null
}

/** What a Jabber client needs to connect. */
export interface XmppStatus {
  /** The JID domain: accounts are nickname@domain. */
  domain: string
  /** Where clients connect: the bind address (127.0.0.1 when bound to every address). */
  host: string
  /** STARTTLS port. */
  port: number
  /** Direct TLS port (XEP-0368), or null when off. */
  directTlsPort: number | null
  /** SHA-256 of the server certificate (DER), as colon-separated hex. */
  certificateSha256: string
  /** Profanity and Pidgin show this one first when asking to trust the certificate. */
  certificateSha1: string
}

export interface NetworkStatus {
  /** Nodes in the DHT routing table. */
  peers: number
  /** Relays in this node's directory (candidates for tunnel hops). */
  relays: number
  tunnels: { inbound: number; outbound: number }
  introPoints: number
  /** Messages waiting to be delivered. */
  outbox: number
  /** Sealed envelopes this node keeps for others' offline recipients; null when it holds none (not a relay, or mailbox.hold off). */
  mailboxHeld: number | null
}

/** A contact or a pending request of one identity. */
export interface ContactView {
  address: string
  /** The petname, when the user bound one. */
  name: string | null
  state: 'mutual' | 'request-in' | 'request-out'
  /** The text sent with an incoming request. */
  requestText: string | null
}

/** The XMPP part of the status, from a started server (its ports are the bound ones, port 0 included). */
export function xmppStatus(config: XmppConfig, server: XmppServer): XmppStatus {
  const ports = server.ports()
  return {
    domain: config.domain,
    host: config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host,
    port: ports.starttls,
    directTlsPort: ports.directTls ?? null,
    certificateSha256: server.fingerprint,
    certificateSha1: server.fingerprintSha1,
  }
}

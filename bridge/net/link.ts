import type { InitiatorState } from './noise-nk.js'
import type { Session } from './session.js'
import type { Endpoint } from './udp-node.js'

/**
 * One encrypted link to another node, as its users see it. An initiator's
 * link lives until closed: it rekeys in place and, after going down, keeps
 * re-handshaking with back-off. A responder's link ends when it goes down (the
 * initiator is anonymous: only it can bring the link back).
 */
export type LinkState = 'connecting' | 'up' | 'down' | 'closed'
export type LinkRole = 'initiator' | 'responder'
export type LinkDownReason = 'idle' | 'expired' | 'closed' | 'peer-closed' | 'stopped'

export interface LinkStats {
  packetsIn: number
  packetsOut: number
  /** UDP payload bytes, headers and tags included. */
  bytesIn: number
  bytesOut: number
  /** Handshakes completed on this link (1 + rekeys + re-establishments). */
  handshakes: number
  lastReceivedAt: number
  lastSentAt: number
}

export interface Link {
  readonly role: LinkRole
  /** The responder's Ed25519 node key; undefined on the responder side (initiators are anonymous). */
  readonly peerKey: Uint8Array | undefined
  readonly state: LinkState
  /** Where packets go: the address we connected to, or the last one an authenticated packet came from. */
  readonly endpoint: Endpoint
  readonly stats: Readonly<LinkStats>
  /** Sends one payload (≤ MAX_LINK_PAYLOAD bytes); throws LinkError LINK_DOWN unless the link is up. */
  send(payload: Uint8Array): void
  /** Tells the peer, forgets the keys and stops re-handshaking. */
  close(): void
}

export interface PendingHandshake {
  localId: number
  state: InitiatorState
  /** The initiation, kept to be sent again unchanged (the responder answers duplicates from a cache). */
  packet: Uint8Array
  startedAt: number
  nextRetryAt: number
  retryDelay: number
}

interface Waiter {
  resolve(link: Link): void
  reject(error: Error): void
  deadline: number
}

/** What the link manager needs to act on a link's behalf. */
export interface LinkOwner {
  sendData(link: LinkEntry, payload: Uint8Array): void
  closeLink(link: LinkEntry): void
}

/** A link with the manager's bookkeeping (sessions, handshake, timers); only the manager sees these fields. */
export class LinkEntry implements Link {
  state: LinkState
  endpoint: Endpoint
  readonly stats: LinkStats
  current: Session | undefined
  /** The session just replaced by a rekey: still accepted for packets in flight until `previousUntil`. */
  previous: Session | undefined
  previousUntil = 0
  handshake: PendingHandshake | undefined
  /** Id and resumption key of the last session, so a new handshake can rekey this same link at the responder. */
  resumable: { remoteId: number; resumeKey: Uint8Array } | undefined
  reconnectAt = 0
  reconnectDelay = 0
  waiters: Waiter[] = []

  constructor(
    private readonly owner: LinkOwner,
    readonly role: LinkRole,
    readonly peerKey: Uint8Array | undefined,
    /** The responder's X25519 static key (initiator side only). */
    readonly peerStatic: Uint8Array | undefined,
    endpoint: Endpoint,
    now: number,
  ) {
    this.state = role === 'initiator' ? 'connecting' : 'up'
    this.endpoint = endpoint
    this.stats = {
      packetsIn: 0,
      packetsOut: 0,
      bytesIn: 0,
      bytesOut: 0,
      handshakes: 0,
      lastReceivedAt: now,
      lastSentAt: now,
    }
  }

  send(payload: Uint8Array): void {
    this.owner.sendData(this, payload)
  }

  close(): void {
    this.owner.closeLink(this)
  }
}

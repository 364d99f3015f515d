import { EventEmitter } from 'node:events'
import type { Config } from '../config/schema.js'
import type { CryptoBackend } from '../crypto/backend.js'
import { defaultBackend } from '../crypto/default-backend.js'
import { type Identity, x25519FromEd25519PublicKey } from '../crypto/identity.js'
import type { Logger } from '../log.js'
import { WireError } from '../wire/errors.js'
import {
  DESCRIPTOR_REQUEST_LENGTH,
  DESCRIPTOR_RESPONSE_LENGTH,
  decodeDescriptorPayload,
  decodeDescriptorRequest,
  decodeDescriptorResponse,
  decodeInitiation,
  decodeInitiationPayload,
  decodeLinkMessage,
  decodeResponse,
  decodeResponsePayload,
  decodeTransport,
  encodeDescriptorPayload,
  encodeDescriptorRequest,
  encodeDescriptorRequestPayload,
  encodeDescriptorResponse,
  encodeInitiation,
  encodeInitiationPayload,
  encodeLinkMessage,
  encodeResponse,
  encodeResponsePayload,
  INITIATION_LENGTH,
  isValidLinkId,
  KRPC_FIRST_BYTE,
  type LinkMessage,
  MAX_DATAGRAM_LENGTH,
  MAX_LINK_PAYLOAD,
  peekReceiverId,
  RESPONSE_LENGTH,
  RESUME_TAG_LENGTH,
  TRANSPORT_MIN_LENGTH,
} from '../wire/link.js'
import { LinkError, NetError } from './errors.js'
import { type Link, type LinkDownReason, LinkEntry, type LinkOwner } from './link.js'
import { type DropReason, type LinkCounters, newLinkCounters } from './link-counters.js'
import {
  initiatorFinish,
  initiatorStart,
  LINK_PROLOGUE,
  responderAccept,
  responderReply,
} from './noise-nk.js'
import { type NxRequesterState, nxAnswer, nxRead, nxRequest } from './noise-nx.js'
import { HandshakeRateLimiter } from './rate-limiter.js'
import { Session } from './session.js'
import type { Endpoint, Rinfo, UdpNode } from './udp-node.js'

export type { LinkCounters }
export type NetConfig = Config['net']
export type MessageHandler = (payload: Uint8Array, link: Link) => void
/** Our signed node descriptor, or null while we serve none. */
export type DescriptorProvider = () => Uint8Array | null

/** A node descriptor fetched over the overlay, not yet decoded or verified. */
export interface FetchedDescriptor {
  bytes: Uint8Array
  /** The responder's X25519 static key, authenticated by the NX handshake (`es`). */
  responderStatic: Uint8Array
}

export interface LinkEvents {
  up: [link: Link]
  down: [link: Link, reason: LinkDownReason]
  /** The last up link went down: the node may be cut off (the DHT layer rejoins). */
  allDown: []
}

export interface LinksOptions {
  node: UdpNode
  /** This node's key: its X25519 half authenticates us as a responder. */
  nodeKey: Identity
  config: NetConfig
  backend?: CryptoBackend
}

/** What a receive id names: our pending initiation or descriptor request, an answered initiation not yet confirmed, or a live session. */
type IdEntry =
  | { kind: 'initiating'; link: LinkEntry }
  | { kind: 'requesting'; request: PendingDescriptorRequest }
  | { kind: 'halfOpen'; halfOpen: HalfOpen }
  | { kind: 'session'; link: LinkEntry; session: Session }

interface HalfOpen {
  session: Session
  endpoint: Endpoint
  /** Set when the initiation proved it rekeys this existing link. */
  target: LinkEntry | undefined
  ephemeralKey: string
  response: Uint8Array
  expiresAt: number
}

interface PendingDescriptorRequest {
  localId: number
  state: NxRequesterState
  packet: Uint8Array
  endpoint: Endpoint
  startedAt: number
  timeoutMs: number
  nextRetryAt: number
  retryDelay: number
  resolve: (fetched: FetchedDescriptor) => void
  reject: (error: Error) => void
}

/** Keys replaced by a rekey still open packets sent before the switch for this long. */
const PREVIOUS_SESSION_GRACE_MS = 5000
/** Senders stop using a key long before its counter could wrap; receivers refuse beyond twice the rekey limit. */
const REJECT_AFTER_REKEYS = 2
const ZERO_TAG = new Uint8Array(RESUME_TAG_LENGTH)
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')

function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!
  return diff === 0
}

/**
 * Encrypted links over a UdpNode: Noise NK handshakes (docs/protocol.md
 * "Links"), AEAD transport packets with replay windows, keepalives, idle
 * expiry, rekeying and re-establishment; and Noise NX descriptor requests,
 * which need no link. All timing goes through
 * `maintain()`, driven by a timer in production and by hand in tests.
 */
export class Links extends EventEmitter<LinkEvents> implements LinkOwner {
  readonly publicKey: Uint8Array
  readonly #node: UdpNode
  readonly #nodeKey: Identity
  readonly #config: NetConfig
  readonly #backend: CryptoBackend
  readonly #log: Logger
  readonly #limiter: HandshakeRateLimiter
  readonly #ids = new Map<number, IdEntry>()
  readonly #links = new Set<LinkEntry>()
  readonly #halfOpenByEphemeral = new Map<string, HalfOpen>()
  /** Ephemeral keys of confirmed initiations → when to forget them: a replayed initiation is refused, not answered. */
  readonly #usedEphemerals = new Map<string, number>()
  readonly #handlers = new Set<MessageHandler>()
  readonly #descriptorRequests = new Set<PendingDescriptorRequest>()
  #descriptor: DescriptorProvider | undefined
  readonly #counters = newLinkCounters()
  #unsubscribe: (() => void) | undefined
  #timer: NodeJS.Timeout | undefined
  #anyUp = false

  constructor(options: LinksOptions) {
    super()
    this.#node = options.node
    this.#nodeKey = options.nodeKey
    this.#config = options.config
    this.#backend = options.backend ?? defaultBackend
    this.#log = options.node.log.child({ c: 'links' })
    this.publicKey = options.nodeKey.publicKey
    this.#limiter = new HandshakeRateLimiter(
      {
        perSecond: options.config.handshakesPerSecond,
        perHostPerSecond: options.config.handshakesPerSecondPerHost,
        maxHosts: options.config.maxPendingHandshakes * 4,
      },
      this.#now(),
    )
  }

  start(): void {
    if (this.#unsubscribe) return
    this.#unsubscribe = this.#node.onOverlay((packet, from) => this.handlePacket(packet, from))
    const { handshakeRetryMs, keepaliveIntervalMs } = this.#config
    const tick = Math.min(1000, Math.max(5, Math.min(handshakeRetryMs, keepaliveIntervalMs) / 2))
    this.#timer = setInterval(() => this.maintain(), tick)
    this.#timer.unref()
  }

  /** Closes every link (telling each peer) and stops listening; the UdpNode stays up. */
  stop(): void {
    clearInterval(this.#timer)
    this.#timer = undefined
    this.#unsubscribe?.()
    this.#unsubscribe = undefined
    this.#anyUp = false // a deliberate stop is not an outage: no allDown
    for (const link of [...this.#links]) this.#close(link, 'stopped')
    // Initiators we answered but who have not confirmed yet hold keys too: tell them as well.
    for (const halfOpen of this.#halfOpenByEphemeral.values()) {
      if (halfOpen.target) continue
      const { port, host } = halfOpen.endpoint
      this.#node.send(halfOpen.session.seal(encodeLinkMessage({ type: 'close' })), port, host)
    }
    for (const request of this.#descriptorRequests) {
      request.reject(new LinkError('CLOSED', 'the links stopped'))
    }
    this.#descriptorRequests.clear()
    this.#ids.clear()
    this.#halfOpenByEphemeral.clear()
    this.#usedEphemerals.clear()
  }

  /**
   * A link to the node whose Ed25519 node key is `peerKey`, at `endpoint`.
   * Resolves once the handshake completes; an existing link to the same key
   * and endpoint is reused. Rejects with LinkError HANDSHAKE_TIMEOUT,
   * BAD_PEER_KEY, LINK_LIMIT or CLOSED.
   */
  connect(peerKey: Uint8Array, endpoint: Endpoint): Promise<Link> {
    const existing = [...this.#links].find(
      (l) =>
        l.role === 'initiator' &&
        l.peerKey !== undefined &&
        constantTimeEqual(l.peerKey, peerKey) &&
        l.endpoint.host === endpoint.host &&
        l.endpoint.port === endpoint.port,
    )
    if (existing) return this.#whenUp(existing)
    let peerStatic: Uint8Array
    try {
      peerStatic = x25519FromEd25519PublicKey(peerKey)
    } catch (cause) {
      return Promise.reject(new LinkError('BAD_PEER_KEY', `not an Ed25519 node key: ${String(cause)}`))
    }
    if (this.#links.size >= this.#config.maxLinks) {
      return Promise.reject(new LinkError('LINK_LIMIT', `already ${this.#links.size} links (net.maxLinks)`))
    }
    const link = new LinkEntry(this, 'initiator', peerKey.slice(), peerStatic, { ...endpoint }, this.#now())
    this.#links.add(link)
    const up = this.#whenUp(link)
    this.#startHandshake(link)
    return up
  }

  /**
   * Asks the node at `endpoint` for its node descriptor with a Noise NX
   * exchange (docs/protocol.md "Descriptor requests"): we need not know its
   * key, and learn it authenticated. Retransmitted like initiations until
   * `timeoutMs` (default net.handshakeTimeoutMs); rejects with LinkError
   * HANDSHAKE_TIMEOUT, LINK_LIMIT or CLOSED.
   */
  fetchDescriptor(
    endpoint: Endpoint,
    timeoutMs = this.#config.handshakeTimeoutMs,
  ): Promise<FetchedDescriptor> {
    if (!this.#unsubscribe) return Promise.reject(new LinkError('CLOSED', 'the links are stopped'))
    if (this.#descriptorRequests.size >= this.#config.maxPendingHandshakes) {
      return Promise.reject(
        new LinkError('LINK_LIMIT', `already ${this.#descriptorRequests.size} descriptor requests pending`),
      )
    }
    return new Promise((resolve, reject) => {
      const now = this.#now()
      const localId = this.#allocateId()
      const { packet, state } = this.#newDescriptorRequest(localId)
      const retry = this.#config.handshakeRetryMs
      const request: PendingDescriptorRequest = {
        localId,
        state,
        packet,
        endpoint: { ...endpoint },
        startedAt: now,
        timeoutMs,
        nextRetryAt: now + retry,
        retryDelay: retry,
        resolve,
        reject,
      }
      this.#ids.set(localId, { kind: 'requesting', request })
      this.#descriptorRequests.add(request)
      this.#counters.descriptors.requested++
      this.#node.send(request.packet, endpoint.port, endpoint.host)
    })
  }

  /** A request under a fresh ephemeral key, redrawn (as for initiations) while it would begin with 0x64. */
  #newDescriptorRequest(localId: number): { packet: Uint8Array; state: NxRequesterState } {
    const payload = encodeDescriptorRequestPayload(localId)
    for (;;) {
      const { ephemeral, state } = nxRequest(this.#backend, this.#node.random(32), payload, LINK_PROLOGUE)
      if (ephemeral[0] !== KRPC_FIRST_BYTE)
        return { packet: encodeDescriptorRequest(ephemeral, payload), state }
    }
  }

  /** Answers descriptor requests with what `provider` returns; returns a remover. */
  serveDescriptor(provider: DescriptorProvider): () => void {
    this.#descriptor = provider
    return () => {
      if (this.#descriptor === provider) this.#descriptor = undefined
    }
  }

  onMessage(handler: MessageHandler): () => void {
    this.#handlers.add(handler)
    return () => this.#handlers.delete(handler)
  }

  list(): Link[] {
    return [...this.#links]
  }

  counters(): LinkCounters {
    return this.#counters
  }

  /**
   * After a network change: every initiator link handshakes again now (a
   * rekey for up links, which also tells the responder our new address; an
   * immediate retry for down ones).
   */
  rehandshake(): void {
    const now = this.#now()
    for (const link of this.#links) {
      if (link.role !== 'initiator') continue
      if (link.state === 'up' && !link.handshake) this.#startHandshake(link)
      if (link.state === 'down') {
        link.reconnectDelay = this.#config.handshakeRetryMs
        link.reconnectAt = now
      }
    }
    this.maintain()
  }

  /** Retransmissions, timeouts, keepalives, idle expiry, rekeys, reconnects. Called by the timer. */
  maintain(): void {
    const now = this.#now()
    for (const [key, halfOpen] of this.#halfOpenByEphemeral) {
      if (now < halfOpen.expiresAt) continue
      this.#halfOpenByEphemeral.delete(key)
      this.#ids.delete(halfOpen.session.localId)
    }
    for (const [key, until] of this.#usedEphemerals) {
      if (now < until) break // insertion order is expiry order
      this.#usedEphemerals.delete(key)
    }
    for (const link of [...this.#links]) this.#maintainLink(link, now)
    for (const request of [...this.#descriptorRequests]) this.#maintainDescriptorRequest(request, now)
  }

  /** Entry point for every overlay datagram (exposed for fuzzing without a socket). */
  handlePacket(packet: Uint8Array, from: Rinfo): void {
    const id = peekReceiverId(packet)
    const entry = id === undefined ? undefined : this.#ids.get(id)
    if (!entry) {
      if (packet.length === INITIATION_LENGTH) this.#onInitiation(packet, from)
      else if (packet.length === DESCRIPTOR_REQUEST_LENGTH) this.#onDescriptorRequest(packet, from)
      else this.#drop(isTransportShaped(packet) ? 'unknownLink' : 'malformed')
      return
    }
    if (entry.kind === 'initiating') {
      if (packet.length === RESPONSE_LENGTH) this.#onResponse(entry.link, packet, from)
      else this.#drop('unexpected')
      return
    }
    if (entry.kind === 'requesting') {
      if (packet.length === DESCRIPTOR_RESPONSE_LENGTH) this.#onDescriptorResponse(entry.request, packet)
      else this.#drop('unexpected')
      return
    }
    this.#onTransport(entry, packet, from)
  }

  sendData(link: LinkEntry, payload: Uint8Array): void {
    if (link.state !== 'up') throw new LinkError('LINK_DOWN', `the link is ${link.state}`)
    if (payload.length > MAX_LINK_PAYLOAD) {
      throw new NetError(
        'PAYLOAD_TOO_LARGE',
        `payload of ${payload.length} bytes; at most ${MAX_LINK_PAYLOAD}`,
      )
    }
    this.#transmit(link, { type: 'data', payload })
  }

  closeLink(link: LinkEntry): void {
    this.#close(link, 'closed')
  }

  #now(): number {
    return this.#node.clock.now()
  }

  #drop(reason: DropReason): void {
    this.#counters.dropped[reason]++
  }

  #allocateId(): number {
    for (;;) {
      const id = new DataView(this.#node.random(4).buffer).getUint32(0)
      if (isValidLinkId(id) && !this.#ids.has(id)) return id
    }
  }

  #whenUp(link: LinkEntry): Promise<Link> {
    if (link.state === 'up') return Promise.resolve(link)
    if (link.state === 'closed') return Promise.reject(new LinkError('CLOSED', 'the link is closed'))
    return new Promise((resolve, reject) => {
      link.waiters.push({ resolve, reject, deadline: this.#now() + this.#config.handshakeTimeoutMs })
    })
  }

  // ── Handshake, initiator side ────────────────────────────────────────────

  #startHandshake(link: LinkEntry): void {
    const now = this.#now()
    const localId = this.#allocateId()
    const resume = link.resumable
    for (;;) {
      // About one ephemeral key in 256 begins with 0x64 and would read as KRPC: draw again.
      const ephemeralPrivate = this.#node.random(32)
      const ephemeralPublic = this.#backend.x25519PublicKey(ephemeralPrivate)
      if (ephemeralPublic[0] === KRPC_FIRST_BYTE) continue
      const payload = encodeInitiationPayload({
        initiatorId: localId,
        resumeId: resume?.remoteId ?? 0,
        resumeTag: resume ? this.#resumeTag(resume.resumeKey, ephemeralPublic) : ZERO_TAG,
      })
      const start = initiatorStart(this.#backend, link.peerStatic!, ephemeralPrivate, payload)
      const packet = encodeInitiation(start.ephemeral, start.sealedPayload)
      const retry = this.#config.handshakeRetryMs
      if (link.handshake) this.#ids.delete(link.handshake.localId)
      link.handshake = {
        localId,
        state: start.state,
        packet,
        startedAt: now,
        nextRetryAt: now + retry,
        retryDelay: retry,
      }
      this.#ids.set(localId, { kind: 'initiating', link })
      this.#counters.handshakes.initiated++
      this.#sendRaw(link, packet)
      return
    }
  }

  #resumeTag(resumeKey: Uint8Array, ephemeral: Uint8Array): Uint8Array {
    return this.#backend.hmacSha256(resumeKey, ephemeral).subarray(0, RESUME_TAG_LENGTH)
  }

  #onResponse(link: LinkEntry, packet: Uint8Array, from: Rinfo): void {
    const handshake = link.handshake!
    let responderId: number
    let finished: ReturnType<typeof initiatorFinish>
    try {
      const response = decodeResponse(packet)
      finished = initiatorFinish(this.#backend, handshake.state, response.ephemeral, response.sealedPayload)
      responderId = decodeResponsePayload(finished.payload)
    } catch (error) {
      this.#drop(error instanceof WireError ? 'malformed' : 'authFailed')
      return
    }
    this.#counters.received.responses++
    this.#counters.handshakes.completed++
    link.handshake = undefined
    const now = this.#now()
    const session = new Session(
      this.#backend,
      handshake.localId,
      responderId,
      finished.keys,
      now,
      this.#config.replayWindow,
    )
    this.#countIn(link, packet, from, now)
    this.#install(link, session, now)
    // Confirms the new keys to the responder, which keeps sending under the old ones until then.
    this.#transmit(link, { type: 'keepalive' })
    if (link.state !== 'up') this.#up(link)
  }

  // ── Handshake, responder side ────────────────────────────────────────────

  #onInitiation(packet: Uint8Array, from: Rinfo): void {
    let initiation: ReturnType<typeof decodeInitiation>
    try {
      initiation = decodeInitiation(packet)
    } catch {
      this.#drop('malformed')
      return
    }
    const ephemeralKey = hex(initiation.ephemeral)
    if (this.#usedEphemerals.has(ephemeralKey)) {
      this.#drop('replayed')
      return
    }
    const known = this.#halfOpenByEphemeral.get(ephemeralKey)
    if (known) {
      // A retransmission: answer from the cache, no new state, no crypto.
      this.#counters.received.duplicateInitiations++
      this.#node.send(known.response, from.port, from.address)
      return
    }
    const now = this.#now()
    if (
      this.#halfOpenByEphemeral.size >= this.#config.maxPendingHandshakes ||
      !this.#limiter.allow(from.address, now)
    ) {
      this.#drop('rateLimited')
      return
    }
    let accepted: ReturnType<typeof responderAccept>
    let payload: ReturnType<typeof decodeInitiationPayload>
    try {
      accepted = responderAccept(
        this.#backend,
        this.#nodeKey.x25519PrivateKey,
        this.#nodeKey.x25519PublicKey,
        initiation.ephemeral,
        initiation.sealedPayload,
      )
      payload = decodeInitiationPayload(accepted.payload)
    } catch (error) {
      this.#drop(error instanceof WireError ? 'malformed' : 'authFailed')
      return
    }
    const target = this.#resumeTarget(payload.resumeId)
    if (
      target &&
      !constantTimeEqual(this.#resumeTag(target.session.resumeKey, initiation.ephemeral), payload.resumeTag)
    ) {
      this.#drop('authFailed')
      return
    }
    if (!target && this.#links.size >= this.#config.maxLinks) {
      this.#drop('linkLimit')
      return
    }
    const localId = this.#allocateId()
    const reply = responderReply(
      this.#backend,
      accepted.state,
      this.#node.random(32),
      encodeResponsePayload(localId),
    )
    const response = encodeResponse(payload.initiatorId, reply.ephemeral, reply.sealedPayload)
    const session = new Session(
      this.#backend,
      localId,
      payload.initiatorId,
      reply.keys,
      now,
      this.#config.replayWindow,
    )
    const halfOpen: HalfOpen = {
      session,
      endpoint: { host: from.address, port: from.port },
      target: target?.link,
      ephemeralKey,
      response,
      expiresAt: now + this.#config.handshakeTimeoutMs,
    }
    this.#ids.set(localId, { kind: 'halfOpen', halfOpen })
    this.#halfOpenByEphemeral.set(ephemeralKey, halfOpen)
    this.#counters.received.initiations++
    this.#counters.handshakes.accepted++
    this.#node.send(response, from.port, from.address)
  }

  /** The responder-side link a resumption id names, if it is one of ours and still up. */
  #resumeTarget(resumeId: number): { link: LinkEntry; session: Session } | undefined {
    if (resumeId === 0) return undefined
    const entry = this.#ids.get(resumeId)
    if (entry?.kind !== 'session' || entry.link.role !== 'responder' || entry.link.state !== 'up')
      return undefined
    return entry
  }

  /** The initiator's first authenticated packet under an answered handshake: the link (or its new keys) goes live. */
  #confirm(halfOpen: HalfOpen, from: Rinfo, now: number): LinkEntry | undefined {
    this.#halfOpenByEphemeral.delete(halfOpen.ephemeralKey)
    // Remembered as long as the keys it made may be used; the oldest goes first when the table is full.
    if (this.#usedEphemerals.size >= this.#config.maxLinks * 2) {
      this.#usedEphemerals.delete(this.#usedEphemerals.keys().next().value!)
    }
    this.#usedEphemerals.set(halfOpen.ephemeralKey, now + this.#config.rejectAfterMs)
    let link = halfOpen.target
    if (link?.state !== 'up') {
      if (this.#links.size >= this.#config.maxLinks) {
        this.#ids.delete(halfOpen.session.localId)
        return undefined
      }
      link = new LinkEntry(this, 'responder', undefined, undefined, halfOpen.endpoint, now)
      this.#links.add(link)
      this.#install(link, halfOpen.session, now)
      this.#up(link)
    } else {
      this.#install(link, halfOpen.session, now)
    }
    link.endpoint = { host: from.address, port: from.port }
    return link
  }

  // ── Descriptor requests (Noise NX, no link) ──────────────────────────────

  /** Stateless: each request that passes the rate limit gets one answer of its own size, or nothing. */
  #onDescriptorRequest(packet: Uint8Array, from: Rinfo): void {
    let request: ReturnType<typeof decodeDescriptorRequest>
    try {
      request = decodeDescriptorRequest(packet)
    } catch {
      this.#drop('malformed')
      return
    }
    const descriptor = this.#descriptor?.()
    if (!descriptor) {
      this.#drop('notServing')
      return
    }
    if (!this.#limiter.allow(from.address, this.#now())) {
      this.#drop('rateLimited')
      return
    }
    let answer: ReturnType<typeof nxAnswer>
    try {
      answer = nxAnswer(
        this.#backend,
        this.#nodeKey.x25519PrivateKey,
        this.#nodeKey.x25519PublicKey,
        request.ephemeral,
        request.payload,
        this.#node.random(32),
        encodeDescriptorPayload(descriptor),
        LINK_PROLOGUE,
      )
    } catch {
      this.#drop('authFailed') // a low-order ephemeral key
      return
    }
    this.#counters.received.descriptorRequests++
    const response = encodeDescriptorResponse({ receiverId: request.requesterId, ...answer })
    this.#node.send(response, from.port, from.address)
  }

  #onDescriptorResponse(request: PendingDescriptorRequest, packet: Uint8Array): void {
    let fetched: FetchedDescriptor
    try {
      const response = decodeDescriptorResponse(packet)
      const read = nxRead(
        this.#backend,
        request.state,
        response.ephemeral,
        response.sealedStatic,
        response.sealedPayload,
      )
      fetched = {
        bytes: decodeDescriptorPayload(read.payload).slice(),
        responderStatic: read.responderStatic,
      }
    } catch (error) {
      this.#drop(error instanceof WireError ? 'malformed' : 'authFailed')
      return
    }
    this.#counters.received.descriptorResponses++
    this.#endDescriptorRequest(request)
    request.resolve(fetched)
  }

  #endDescriptorRequest(request: PendingDescriptorRequest): void {
    this.#ids.delete(request.localId)
    this.#descriptorRequests.delete(request)
  }

  #maintainDescriptorRequest(request: PendingDescriptorRequest, now: number): void {
    if (now - request.startedAt >= request.timeoutMs) {
      this.#endDescriptorRequest(request)
      this.#counters.descriptors.timedOut++
      const { host, port } = request.endpoint
      request.reject(new LinkError('HANDSHAKE_TIMEOUT', `no descriptor from ${host}:${port}`))
      return
    }
    if (now < request.nextRetryAt) return
    request.retryDelay = Math.min(request.retryDelay * 2, this.#config.handshakeRetryMs * 8)
    request.nextRetryAt = now + request.retryDelay
    this.#counters.descriptors.retransmitted++
    this.#node.send(request.packet, request.endpoint.port, request.endpoint.host)
  }

  // ── Transport ────────────────────────────────────────────────────────────

  #onTransport(
    entry: Exclude<IdEntry, { kind: 'initiating' | 'requesting' }>,
    packet: Uint8Array,
    from: Rinfo,
  ): void {
    const session = entry.kind === 'session' ? entry.session : entry.halfOpen.session
    const now = this.#now()
    let transport: ReturnType<typeof decodeTransport>
    try {
      transport = decodeTransport(packet)
    } catch {
      this.#drop('malformed')
      return
    }
    const refusal = this.#refuse(session, transport.counter, now)
    if (refusal) {
      this.#drop(refusal)
      return
    }
    let plaintext: Uint8Array
    try {
      plaintext = session.open(transport, packet)
    } catch {
      this.#drop('authFailed')
      return
    }
    session.window.record(transport.counter)
    let message: LinkMessage
    try {
      message = decodeLinkMessage(plaintext)
    } catch {
      this.#drop('malformed')
      return
    }
    const link = entry.kind === 'session' ? entry.link : this.#confirm(entry.halfOpen, from, now)
    if (!link) {
      this.#drop('linkLimit')
      return
    }
    this.#counters.received.transport++
    this.#countIn(link, packet, from, now)
    if (message.type === 'data') {
      for (const handler of this.#handlers) handler(message.payload, link)
    } else if (message.type === 'close') {
      this.#close(link, 'peer-closed')
    }
  }

  /** Cheap checks before any decryption: too old a session, or a counter the window has seen. */
  #refuse(session: Session, counter: number, now: number): DropReason | undefined {
    if (now - session.createdAt >= this.#config.rejectAfterMs) return 'expired'
    if (!session.window.accepts(counter)) return 'replayed'
    return undefined
  }

  #countIn(link: LinkEntry, packet: Uint8Array, from: Rinfo, now: number): void {
    link.stats.packetsIn++
    link.stats.bytesIn += packet.length
    link.stats.lastReceivedAt = now
    // Roaming: an authenticated packet from a new address moves the link there (as WireGuard does).
    if (link.endpoint.host !== from.address || link.endpoint.port !== from.port) {
      link.endpoint = { host: from.address, port: from.port }
    }
  }

  #transmit(link: LinkEntry, message: LinkMessage): void {
    const session = link.current
    if (!session) return
    this.#sendRaw(link, session.seal(encodeLinkMessage(message)))
  }

  #sendRaw(link: LinkEntry, packet: Uint8Array): void {
    link.stats.packetsOut++
    link.stats.bytesOut += packet.length
    link.stats.lastSentAt = this.#now()
    this.#node.send(packet, link.endpoint.port, link.endpoint.host)
  }

  // ── Sessions and link states ─────────────────────────────────────────────

  /** Makes `session` the link's current one; the replaced one stays for packets in flight. */
  #install(link: LinkEntry, session: Session, now: number): void {
    if (link.previous) this.#ids.delete(link.previous.localId)
    link.previous = link.current
    link.previousUntil = now + PREVIOUS_SESSION_GRACE_MS
    link.current = session
    link.resumable = { remoteId: session.remoteId, resumeKey: session.resumeKey }
    link.stats.handshakes++
    this.#ids.set(session.localId, { kind: 'session', link, session })
  }

  #forgetSessions(link: LinkEntry): void {
    for (const session of [link.current, link.previous]) if (session) this.#ids.delete(session.localId)
    if (link.handshake) this.#ids.delete(link.handshake.localId)
    link.current = undefined
    link.previous = undefined
    link.handshake = undefined
  }

  #up(link: LinkEntry): void {
    link.state = 'up'
    link.stats.lastReceivedAt = this.#now()
    link.reconnectDelay = 0
    this.#anyUp = true
    for (const waiter of link.waiters.splice(0)) waiter.resolve(link)
    this.#log.debug({ role: link.role, endpoint: link.endpoint }, 'link up')
    this.emit('up', link)
  }

  #down(link: LinkEntry, reason: LinkDownReason): void {
    const wasUp = link.state === 'up'
    this.#forgetSessions(link)
    if (link.role === 'responder') {
      link.state = 'closed'
      this.#links.delete(link)
    } else {
      link.state = 'down'
      link.reconnectDelay = this.#config.handshakeRetryMs
      link.reconnectAt = this.#now() + link.reconnectDelay
    }
    if (!wasUp) return
    this.#log.debug({ role: link.role, endpoint: link.endpoint, reason }, 'link down')
    this.emit('down', link, reason)
    this.#checkAllDown()
  }

  #close(link: LinkEntry, reason: LinkDownReason): void {
    if (link.state === 'closed') return
    const wasUp = link.state === 'up'
    if (wasUp && reason !== 'peer-closed') this.#transmit(link, { type: 'close' })
    this.#forgetSessions(link)
    link.state = 'closed'
    link.resumable = undefined
    this.#links.delete(link)
    for (const waiter of link.waiters.splice(0))
      waiter.reject(new LinkError('CLOSED', `the link was closed (${reason})`))
    if (!wasUp) return
    this.emit('down', link, reason)
    this.#checkAllDown()
  }

  #checkAllDown(): void {
    if (!this.#anyUp) return
    for (const link of this.#links) if (link.state === 'up') return
    this.#anyUp = false
    this.emit('allDown')
  }

  #maintainLink(link: LinkEntry, now: number): void {
    this.#maintainHandshake(link, now)
    const late = link.waiters.filter((w) => now >= w.deadline)
    if (late.length > 0) {
      link.waiters = link.waiters.filter((w) => now < w.deadline)
      for (const waiter of late) waiter.reject(this.#timeoutError(link))
    }
    if (link.state === 'down' && !link.handshake && now >= link.reconnectAt) this.#startHandshake(link)
    if (link.state !== 'up') return
    const config = this.#config
    const session = link.current!
    if (now - link.stats.lastReceivedAt >= config.linkIdleTimeoutMs) {
      this.#down(link, 'idle')
      return
    }
    if (
      now - session.createdAt >= config.rejectAfterMs ||
      session.sendCounter >= config.rekeyAfterMessages * REJECT_AFTER_REKEYS
    ) {
      this.#down(link, 'expired')
      return
    }
    if (link.previous && now >= link.previousUntil) {
      this.#ids.delete(link.previous.localId)
      link.previous = undefined
    }
    const rekeyDue =
      now - session.createdAt >= config.rekeyAfterMs || session.sendCounter >= config.rekeyAfterMessages
    if (link.role === 'initiator' && rekeyDue && !link.handshake) this.#startHandshake(link)
    if (now - link.stats.lastSentAt >= config.keepaliveIntervalMs) this.#transmit(link, { type: 'keepalive' })
  }

  #timeoutError(link: LinkEntry): LinkError {
    const { host, port } = link.endpoint
    return new LinkError('HANDSHAKE_TIMEOUT', `no handshake answer from ${host}:${port}`)
  }

  #maintainHandshake(link: LinkEntry, now: number): void {
    const handshake = link.handshake
    if (!handshake) return
    if (now - handshake.startedAt >= this.#config.handshakeTimeoutMs) {
      this.#ids.delete(handshake.localId)
      link.handshake = undefined
      this.#counters.handshakes.timedOut++
      if (link.state === 'connecting') {
        // Never up: nothing to re-establish. Its callers learn why.
        for (const waiter of link.waiters.splice(0)) waiter.reject(this.#timeoutError(link))
        this.#close(link, 'closed')
      } else if (link.state === 'down') {
        link.reconnectDelay = Math.min(this.#config.reconnectMaxBackoffMs, link.reconnectDelay * 2)
        link.reconnectAt = now + link.reconnectDelay
      }
      return
    }
    if (now < handshake.nextRetryAt) return
    handshake.retryDelay = Math.min(handshake.retryDelay * 2, this.#config.handshakeRetryMs * 8)
    handshake.nextRetryAt = now + handshake.retryDelay
    this.#counters.handshakes.retransmitted++
    this.#sendRaw(link, handshake.packet)
  }
}

/** Could be a transport packet for a link we might have had: right length range and a valid id (no throw: hot path). */
function isTransportShaped(packet: Uint8Array): boolean {
  const id = peekReceiverId(packet)
  return (
    packet.length >= TRANSPORT_MIN_LENGTH &&
    packet.length <= MAX_DATAGRAM_LENGTH &&
    id !== undefined &&
    isValidLinkId(id)
  )
}

export function createLinks(options: LinksOptions): Links {
  return new Links(options)
}

import { randomBytes } from 'node:crypto'
import { createElement, type Element } from 'ltx'
import type { Logger } from '../log.js'
import { type StreamErrorCondition, XMPPError } from './errors.js'
import type { Hooks } from './hooks.js'
import type { JID } from './jid.js'
import type { Session, SessionKey } from './module.js'
import { NS } from './namespaces.js'
import type { SmQueue } from './sm-queue.js'

/** What a session writes to: the current connection. */
export interface SessionTransport {
  write(stanza: Element): void
  close(condition?: StreamErrorCondition, text?: string): void
}

export interface SessionOptions {
  id: string
  jid: JID
  remoteAddress: string
  hooks: Hooks
  log: Logger
  /** Unacknowledged stanzas kept before the stream is closed (XEP-0198). */
  maxUnacked: number
  /** Gets a stanza that reached the session after its end (a race), so it is rerouted, not lost. */
  orphaned(stanza: Element): void
  /** The client acknowledges nothing (or is away too long): end the session for good, rerouting its queue. */
  overflowed(): void
}

/** XEP-0198 state of a session: off until the client sends `<enable/>`. */
interface StreamManagement {
  /** The resumption id handed out in `<enabled/>`, when resumption was asked for. */
  resumeId: string | undefined
  queue: SmQueue
  /** Stanzas received from the client (mod 2^32). */
  handled: number
}

const DEFAULT_REQUEST_TIMEOUT_MS = 30_000

/** A bound resource (see Session in module.ts); survives its connection while resumable. */
export class ClientSession implements Session {
  readonly id: string
  readonly jid: JID
  readonly remoteAddress: string
  available = false
  priority = 0
  presence: Element | undefined
  interested = false
  csi: 'active' | 'inactive' = 'active'
  /** Where the client is right now; null while hibernating (XEP-0198) or after the end. */
  transport: SessionTransport | null = null
  sm: StreamManagement | undefined
  ended = false
  /** JIDs this session sent directed presence to (RFC 6121 §4.6), told when it goes offline. */
  readonly directedPresence = new Set<string>()
  private readonly data = new Map<string, unknown>()
  private readonly requests = new Map<string, { resolve(el: Element): void; reject(err: Error): void }>()
  private outgoing: Promise<void> = Promise.resolve()
  private ackRequested = false

  constructor(private readonly options: SessionOptions) {
    this.id = options.id
    this.jid = options.jid
    this.remoteAddress = options.remoteAddress
  }

  get account(): string {
    return this.jid.local
  }

  get resource(): string {
    return this.jid.resource
  }

  get<T>(key: SessionKey<T>): T | undefined {
    return this.data.get(key.name) as T | undefined
  }

  set<T>(key: SessionKey<T>, value: T | undefined): void {
    if (value === undefined) this.data.delete(key.name)
    else this.data.set(key.name, value)
  }

  send(stanza: Element): void {
    const { hooks, log } = this.options
    if (!hooks.has('outgoing')) {
      this.write(stanza)
      return
    }
    // Chained so that stanzas keep their order even when a hook is slow.
    this.outgoing = this.outgoing
      .then(async () => {
        if ((await hooks.run('outgoing', { stanza, session: this })) !== 'handled') this.write(stanza)
      })
      .catch((err) => log.error({ err }, 'outgoing hook failed; stanza sent anyway'))
  }

  write(stanza: Element): void {
    if (this.ended) {
      this.options.orphaned(stanza)
      return
    }
    if (this.sm) {
      this.sm.queue.push(stanza)
      if (this.sm.queue.length > this.options.maxUnacked) {
        const transport = this.transport
        this.options.overflowed()
        transport?.close('policy-violation', 'too many unacknowledged stanzas')
        return
      }
      this.requestAck()
    }
    this.transport?.write(stanza)
  }

  request(iq: Element, timeoutMs = DEFAULT_REQUEST_TIMEOUT_MS): Promise<Element> {
    const id = randomBytes(8).toString('hex')
    iq.attrs.id = id
    iq.attrs.to = this.jid.toString()
    return new Promise<Element>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.requests.delete(id)
        reject(new XMPPError('remote-server-timeout', 'no answer from the client'))
      }, timeoutMs)
      timer.unref()
      const settle = { resolve, reject }
      this.requests.set(id, {
        resolve: (el) => {
          clearTimeout(timer)
          settle.resolve(el)
        },
        reject: (err) => {
          clearTimeout(timer)
          settle.reject(err)
        },
      })
      this.send(iq)
    })
  }

  /** Settles a `request()` with the client's result or error; false when the id is not ours. */
  answer(response: Element): boolean {
    const id = response.attrs.id
    const pending = id === undefined ? undefined : this.requests.get(id)
    if (!pending || id === undefined) return false
    this.requests.delete(id)
    if (response.attrs.type === 'result') pending.resolve(response)
    else pending.reject(new XMPPError('undefined-condition', 'the client answered with an error'))
    return true
  }

  close(condition?: StreamErrorCondition, text?: string): void {
    this.transport?.close(condition, text)
  }

  /** Rejects what is still waiting for the client; called once the session is over. */
  failRequests(): void {
    for (const pending of this.requests.values()) pending.reject(new XMPPError('recipient-unavailable'))
    this.requests.clear()
  }

  /** One `<r/>` per burst of stanzas, sent once the burst is written. */
  private requestAck(): void {
    if (this.ackRequested) return
    this.ackRequested = true
    setImmediate(() => {
      this.ackRequested = false
      if (this.sm && this.sm.queue.length > 0) this.transport?.write(createElement('r', { xmlns: NS.sm }))
    })
  }
}

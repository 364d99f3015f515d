import { randomBytes } from 'node:crypto'
import type { Socket } from 'node:net'
import { type SecureContext, TLSSocket } from 'node:tls'
import { createElement, type Element, escapeXML } from 'ltx'
import type { XmppConfig } from '../config/sections/xmpp.js'
import type { Logger } from '../log.js'
import { type Accounts, DEFAULT_SCRAM_ITERATIONS } from './accounts.js'
import { tlsChannelBindings } from './channel-binding.js'
import { StreamError, type StreamErrorCondition, XMPPError } from './errors.js'
import { NS } from './namespaces.js'
import { type AuthFailureLimiter, TokenBucket } from './rate-limit.js'
import { SaslError } from './sasl/errors.js'
import { createMechanism, offeredMechanisms, type SaslMechanism, type SaslStep } from './sasl/mechanisms.js'
import type { ChannelBindings } from './sasl/scram.js'
import type { ClientSession, SessionTransport } from './session.js'
import { errorReply } from './stanza.js'
import { StreamParser } from './stream-parser.js'

/** What a connection needs from the server core. */
export interface ConnectionHost {
  readonly domain: string
  readonly config: XmppConfig
  readonly log: Logger
  readonly accounts: Accounts
  readonly authLimiter: AuthFailureLimiter
  readonly secureContext: SecureContext
  readonly certificateDer: Uint8Array
  readonly decoySecret: Uint8Array
  now(): number
  /** Post-authentication stream features from the core and the modules. */
  streamFeatures(): Element[]
  authenticated(account: string, mechanism: string, clientKey: Uint8Array, remoteAddress: string): void
  /** Binds a resource (RFC 6120 §7); throws XMPPError. */
  bind(
    transport: SessionTransport,
    account: string,
    resource: string,
    remoteAddress: string,
  ): Promise<ClientSession>
  /** Everything after binding: stanzas and nonzas, in order. */
  handle(session: ClientSession, element: Element): Promise<void>
  /** XEP-0198 `<resume/>` before binding; answers on the transport itself. */
  resume(transport: SessionTransport, account: string, element: Element): Promise<ClientSession | undefined>
  /** The connection is gone; `clean` when the client closed the stream itself. */
  disconnected(session: ClientSession, transport: SessionTransport, clean: boolean): void
}

type Stage = 'negotiating' | 'bound' | 'closed'

/** Elements waiting to be handled before the socket is paused (backpressure). */
const MAX_QUEUED = 64
/** Bytes waiting in the socket before a client that does not read is dropped. */
const MAX_WRITE_BUFFER = 8 * 1024 * 1024
const CLOSE_GRACE_MS = 1000

/**
 * One client connection (RFC 6120 §4–§7): stream headers, STARTTLS, SASL,
 * resource binding or XEP-0198 resumption; afterwards it feeds the session's
 * stanzas to the core one at a time. Any protocol violation ends this
 * connection with the right stream error and touches nothing else.
 */
export class Connection implements SessionTransport {
  private socket: Socket
  private secure: boolean
  private bindings: ChannelBindings | null = null
  private readonly parser: StreamParser
  private stage: Stage = 'negotiating'
  private headerSent = false
  private account: string | null = null
  private mechanism: { name: string; exchange: SaslMechanism; started: boolean } | null = null
  private session: ClientSession | null = null
  /** Received elements in order; 'end' is the client's `</stream:stream>`, handled after what came before it. */
  private readonly queue: (Element | 'end')[] = []
  private processing = false
  private readonly stanzaRate: TokenBucket
  private readonly negotiationTimer: NodeJS.Timeout
  private readonly log: Logger
  readonly remoteAddress: string

  constructor(
    socket: Socket,
    private readonly host: ConnectionHost,
    directTls: boolean,
  ) {
    this.socket = socket
    this.secure = directTls
    this.remoteAddress = socket.remoteAddress ?? 'unknown'
    this.log = host.log.child({ peer: `${this.remoteAddress}:${socket.remotePort}` })
    const { limits } = host.config
    this.stanzaRate = new TokenBucket(limits.stanzasPerSecond, limits.stanzaBurst, host.now)
    this.parser = new StreamParser(limits, {
      onStreamStart: (header) => this.onStreamStart(header),
      onElement: (element) => this.enqueue(element),
      onStreamEnd: () => this.enqueue('end'),
    })
    this.negotiationTimer = setTimeout(
      () => this.fail(new StreamError('connection-timeout', 'negotiation took too long')),
      limits.negotiationTimeoutMs,
    )
    this.negotiationTimer.unref()
    if (socket instanceof TLSSocket) this.bindings = tlsChannelBindings(socket, host.certificateDer)
    this.attach(socket)
  }

  write(stanza: Element): void {
    this.send(stanza.toString())
  }

  close(condition?: StreamErrorCondition, text?: string): void {
    if (condition) this.fail(new StreamError(condition, text))
    else this.end()
  }

  private readonly onSocketData = (chunk: Buffer) => this.onData(chunk)
  private readonly onSocketError = (err: Error) => this.log.debug({ err }, 'socket error')
  private readonly onSocketClose = () => this.onClose()

  private attach(socket: Socket): void {
    socket.on('data', this.onSocketData)
    socket.on('error', this.onSocketError)
    socket.on('close', this.onSocketClose)
  }

  /** Removes only our own listeners: the server keeps its per-address accounting on the raw socket. */
  private detachFrom(socket: Socket): void {
    socket.off('data', this.onSocketData)
    socket.off('error', this.onSocketError)
    socket.off('close', this.onSocketClose)
  }

  private onData(chunk: Buffer): void {
    if (this.stage === 'closed') return
    try {
      this.parser.write(chunk)
    } catch (err) {
      this.fail(err instanceof StreamError ? err : new StreamError('internal-server-error'))
    }
  }

  private onStreamStart(header: Element): void {
    const { attrs } = header
    this.sendHeader(attrs.from)
    if (attrs['xmlns:stream'] !== NS.stream)
      throw new StreamError('invalid-namespace', 'bad stream namespace')
    if (attrs.xmlns !== NS.client) throw new StreamError('invalid-namespace', 'expected jabber:client')
    if (attrs.to !== undefined && attrs.to.toLowerCase() !== this.host.domain) {
      throw new StreamError('host-unknown', `this server is ${this.host.domain}`)
    }
    if (attrs.version === undefined || Number.parseInt(attrs.version, 10) < 1) {
      throw new StreamError('unsupported-version', 'XMPP 1.0 streams only')
    }
    this.send(this.features().toString())
  }

  private sendHeader(to: string | undefined): void {
    const id = randomBytes(12).toString('hex')
    const toAttr = to === undefined ? '' : ` to='${escapeXML(to)}'`
    this.send(
      `<?xml version='1.0'?><stream:stream xmlns='${NS.client}' xmlns:stream='${NS.stream}' id='${id}'` +
        ` from='${escapeXML(this.host.domain)}'${toAttr} version='1.0' xml:lang='en'>`,
    )
    this.headerSent = true
  }

  private features(): Element {
    const features = createElement('stream:features')
    if (this.account !== null) {
      features.cnode(createElement('bind', { xmlns: NS.bind }))
      features.cnode(createElement('session', { xmlns: NS.session }, createElement('optional')))
      for (const feature of this.host.streamFeatures()) features.cnode(feature)
      return features
    }
    if (!this.secure) {
      const required = this.host.config.requireStartTls ? createElement('required') : null
      features.cnode(createElement('starttls', { xmlns: NS.tls }, required))
      if (this.host.config.requireStartTls) return features
    }
    const mechanisms = createElement('mechanisms', { xmlns: NS.sasl })
    for (const name of offeredMechanisms(this.saslContext())) mechanisms.c('mechanism').t(name)
    features.cnode(mechanisms)
    if (this.bindings) {
      const cb = createElement('sasl-channel-binding', { xmlns: NS.saslChannelBinding })
      for (const type of this.bindings.types) cb.c('channel-binding', { type })
      features.cnode(cb)
    }
    return features
  }

  private enqueue(element: Element | 'end'): void {
    if (element !== 'end' && !this.stanzaRate.take()) {
      throw new StreamError('policy-violation', 'too many stanzas, slow down')
    }
    this.queue.push(element)
    if (this.queue.length >= MAX_QUEUED) this.socket.pause()
    if (!this.processing) void this.drain()
  }

  private async drain(): Promise<void> {
    this.processing = true
    while (this.queue.length > 0 && this.stage !== 'closed') {
      const element = this.queue.shift()!
      try {
        if (element === 'end') this.end(true)
        else await this.dispatch(element)
      } catch (err) {
        if (err instanceof StreamError) this.fail(err)
        else {
          this.log.error({ err }, 'failed to handle an element')
          this.fail(new StreamError('internal-server-error'))
        }
      }
      if (this.queue.length < MAX_QUEUED / 2 && this.socket.isPaused()) this.socket.resume()
    }
    this.processing = false
  }

  private async dispatch(element: Element): Promise<void> {
    if (this.stage === 'bound' && this.session) return this.host.handle(this.session, element)
    const ns = element.getNS()
    if (ns === NS.tls && element.name === 'starttls') return this.startTls()
    if (ns === NS.sasl) return this.sasl(element)
    if (this.account !== null) {
      if (element.name === 'iq' && element.getChild('bind', NS.bind)) return this.bind(element)
      if (element.is('resume', NS.sm)) return this.resume(element)
      if (element.is('enable', NS.sm)) {
        // XEP-0198 §3: enabling before binding is refused without ending the stream.
        this.send(`<failed xmlns='${NS.sm}'><unexpected-request xmlns='${NS.stanzas}'/></failed>`)
        return
      }
    }
    if (element.name === 'iq' || element.name === 'message' || element.name === 'presence') {
      throw new StreamError('not-authorized', 'authenticate and bind a resource first')
    }
    throw new StreamError('unsupported-stanza-type', `unexpected <${element.name}> during negotiation`)
  }

  private startTls(): void {
    if (this.secure || this.account !== null)
      throw new StreamError('policy-violation', 'TLS is already negotiated')
    this.send(`<proceed xmlns='${NS.tls}'/>`)
    const raw = this.socket
    this.detachFrom(raw)
    const secured = new TLSSocket(raw, { isServer: true, secureContext: this.host.secureContext })
    this.socket = secured
    this.secure = true
    this.parser.restart()
    secured.once('secure', () => {
      this.bindings = tlsChannelBindings(secured, this.host.certificateDer)
    })
    raw.on('error', () => secured.destroy())
    this.attach(secured)
  }

  private saslContext() {
    const { host } = this
    return {
      accounts: host.accounts,
      secure: this.secure,
      bindings: this.bindings,
      decoySecret: host.decoySecret,
      decoyIterations: DEFAULT_SCRAM_ITERATIONS,
    }
  }

  private async sasl(element: Element): Promise<void> {
    if (this.account !== null) throw new StreamError('policy-violation', 'already authenticated')
    if (!this.secure && this.host.config.requireStartTls) {
      return this.saslFailure(new SaslError('encryption-required', 'use STARTTLS first'))
    }
    try {
      if (element.name === 'abort') throw new SaslError('aborted')
      const step = await this.saslStep(element)
      if ('challenge' in step) {
        this.send(createElement('challenge', { xmlns: NS.sasl }, base64(step.challenge)).toString())
        return
      }
      const { account, clientKey, additional } = step.success
      const mechanism = this.mechanism!.name
      this.mechanism = null
      this.account = account
      this.send(
        createElement('success', { xmlns: NS.sasl }, additional ? base64(additional) : null).toString(),
      )
      this.parser.restart()
      this.log.info({ account, mechanism }, 'authenticated')
      this.host.authenticated(account, mechanism, clientKey, this.remoteAddress)
    } catch (err) {
      if (!(err instanceof SaslError)) throw err
      this.saslFailure(err)
    }
  }

  private async saslStep(element: Element): Promise<SaslStep> {
    if (element.name === 'auth') {
      if (!this.host.authLimiter.allowed(this.remoteAddress)) {
        throw new SaslError(
          'temporary-auth-failure',
          'too many failed logins from your address; wait a minute',
        )
      }
      const name = element.attrs.mechanism ?? ''
      this.mechanism = { name, exchange: createMechanism(name, this.saslContext()), started: false }
      const text = element.getText()
      // RFC 6120 §6.4.2: no text = no initial response (ask for it), "=" = an empty one.
      if (text === '') return { challenge: Buffer.alloc(0) }
      this.mechanism.started = true
      return this.mechanism.exchange.start(decodeBase64(text))
    }
    if (element.name === 'response' && this.mechanism) {
      const data = decodeBase64(element.getText())
      if (this.mechanism.started) return this.mechanism.exchange.step(data)
      this.mechanism.started = true
      return this.mechanism.exchange.start(data)
    }
    throw new SaslError('malformed-request', `unexpected <${element.name}>`)
  }

  private saslFailure(err: SaslError): void {
    this.mechanism = null
    if (err.condition === 'not-authorized') {
      this.host.authLimiter.failed(this.remoteAddress)
      this.log.info({ reason: err.text }, 'login failed')
    }
    const failure = createElement('failure', { xmlns: NS.sasl }, createElement(err.condition))
    if (err.text) failure.c('text', { 'xml:lang': 'en' }).t(err.text)
    this.send(failure.toString())
  }

  private async bind(iq: Element): Promise<void> {
    if (iq.attrs.type !== 'set') throw new StreamError('not-authorized', 'bind a resource first')
    const requested = iq.getChild('bind', NS.bind)?.getChildText('resource')?.trim() ?? ''
    try {
      const session = await this.host.bind(this, this.account!, requested, this.remoteAddress)
      this.bound(session)
      const bind = createElement('bind', { xmlns: NS.bind }, createElement('jid', {}, session.jid.toString()))
      this.write(createElement('iq', { type: 'result', id: iq.attrs.id }, bind))
    } catch (err) {
      if (!(err instanceof XMPPError)) throw err
      this.write(errorReply(iq, err))
    }
  }

  private async resume(element: Element): Promise<void> {
    const session = await this.host.resume(this, this.account!, element)
    if (session) this.bound(session)
  }

  private bound(session: ClientSession): void {
    clearTimeout(this.negotiationTimer)
    this.session = session
    this.stage = 'bound'
  }

  /** Sends a stream error (after a header if none was sent yet, RFC 6120 §4.9.1.2) and closes. */
  private fail(err: StreamError): void {
    if (this.stage === 'closed') return
    if (!this.headerSent) this.sendHeader(undefined)
    this.log.info({ condition: err.condition, text: err.text }, 'stream error')
    const error = createElement('stream:error', {}, createElement(err.condition, { xmlns: NS.streams }))
    if (err.text) error.c('text', { xmlns: NS.streams, 'xml:lang': 'en' }).t(err.text)
    this.send(error.toString())
    this.end()
  }

  private end(clean = false): void {
    if (this.stage === 'closed') return
    if (this.headerSent) this.send('</stream:stream>')
    this.stage = 'closed'
    this.queue.length = 0
    clearTimeout(this.negotiationTimer)
    this.socket.end()
    setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS).unref()
    this.detach(clean)
  }

  private onClose(): void {
    this.stage = 'closed'
    clearTimeout(this.negotiationTimer)
    this.detach(false)
  }

  private detach(clean: boolean): void {
    const session = this.session
    if (!session) return
    this.session = null
    if (session.transport === this) this.host.disconnected(session, this, clean)
  }

  private send(data: string): void {
    if (this.stage === 'closed' || this.socket.destroyed) return
    this.socket.write(data)
    if (this.socket.writableLength > MAX_WRITE_BUFFER) {
      this.log.warn('client does not read its stream; dropping it')
      this.socket.destroy()
    }
  }
}

function base64(data: Buffer): string {
  return data.length === 0 ? '=' : data.toString('base64')
}

function decodeBase64(text: string): Buffer {
  const trimmed = text.trim()
  if (trimmed === '=' || trimmed === '') return Buffer.alloc(0)
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(trimmed) || trimmed.length % 4 !== 0) {
    throw new SaslError('incorrect-encoding', 'bad base64')
  }
  return Buffer.from(trimmed, 'base64')
}

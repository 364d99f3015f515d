import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto'
import { connect as netConnect, type Socket } from 'node:net'
import { checkServerIdentity, type TLSSocket, connect as tlsConnect } from 'node:tls'
import type { Element } from 'ltx'
import { StreamParser } from '../../bridge/xmpp/stream-parser.js'
import { DOMAIN, PASSWORD } from './harness.js'

const NS_SASL = 'urn:ietf:params:xml:ns:xmpp-sasl'

export type ScramMechanism = 'SCRAM-SHA-1' | 'SCRAM-SHA-256' | 'SCRAM-SHA-1-PLUS' | 'SCRAM-SHA-256-PLUS'

/**
 * A minimal XMPP client over raw sockets, for what @xmpp/client cannot do:
 * SCRAM-SHA-256 and -PLUS, and sending hostile bytes.
 */
export class RawClient {
  readonly received: Element[] = []
  /** When set, elements go here instead of `received` (benchmarks count without keeping them). */
  onElement: ((el: Element) => void) | undefined
  header: Element | undefined
  ended = false
  closed: Promise<void>
  private waiters: (() => void)[] = []
  private parser: StreamParser

  private constructor(private socket: Socket) {
    this.parser = this.newParser()
    this.closed = this.watch(socket)
  }

  static async connect(port: number, options: { directTls?: string } = {}): Promise<RawClient> {
    const socket = options.directTls
      ? await secure(tlsConnect({ port, host: '127.0.0.1', ...trusting(options.directTls) }))
      : await new Promise<Socket>((resolve, reject) => {
          const s = netConnect({ port, host: '127.0.0.1' }, () => resolve(s))
          s.once('error', reject)
        })
    return new RawClient(socket)
  }

  get tlsSocket(): TLSSocket {
    return this.socket as TLSSocket
  }

  send(data: string | Buffer): void {
    if (!this.socket.destroyed) this.socket.write(data)
  }

  /** Opens a stream and resolves with its features. */
  async open(): Promise<Element> {
    this.parser.restart()
    this.header = undefined
    this.send(
      `<?xml version='1.0'?><stream:stream to='${DOMAIN}' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>`,
    )
    return this.next((el) => el.name === 'stream:features')
  }

  async starttls(cert: string): Promise<Element> {
    this.send(`<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>`)
    await this.next((el) => el.name === 'proceed')
    const raw = this.socket
    raw.removeAllListeners('data')
    this.socket = await secure(tlsConnect({ socket: raw, ...trusting(cert) }))
    this.closed = this.watch(this.socket)
    return this.open()
  }

  /** Authenticates with SCRAM (optionally -PLUS) or PLAIN; resolves with <success/> or <failure/>. */
  async authenticate(
    mechanism: ScramMechanism | 'PLAIN',
    username: string,
    password: string,
    cbType = 'tls-exporter',
  ) {
    if (mechanism === 'PLAIN') {
      this.send(
        `<auth xmlns='${NS_SASL}' mechanism='PLAIN'>${Buffer.from(`\0${username}\0${password}`).toString('base64')}</auth>`,
      )
      return this.next((el) => el.name === 'success' || el.name === 'failure')
    }
    const hash = mechanism.includes('256') ? 'sha256' : 'sha1'
    const plus = mechanism.endsWith('-PLUS')
    const gs2 = plus ? `p=${cbType},,` : 'n,,'
    const clientNonce = randomBytes(18).toString('base64')
    const clientFirstBare = `n=${username},r=${clientNonce}`
    this.send(`<auth xmlns='${NS_SASL}' mechanism='${mechanism}'>${b64(gs2 + clientFirstBare)}</auth>`)
    const challenge = await this.next((el) => el.name === 'challenge' || el.name === 'failure')
    if (challenge.name === 'failure') return challenge
    const serverFirst = Buffer.from(challenge.getText(), 'base64').toString()
    const attrs = new Map(serverFirst.split(',').map((kv) => [kv[0], kv.slice(2)] as const))
    const salt = Buffer.from(attrs.get('s')!, 'base64')
    const iterations = Number(attrs.get('i'))
    const cbData = plus ? channelBinding(this.tlsSocket, cbType) : Buffer.alloc(0)
    const withoutProof = `c=${Buffer.concat([Buffer.from(gs2), cbData]).toString('base64')},r=${attrs.get('r')}`
    const salted = saltedPassword(password, salt, iterations, hash)
    const clientKey = createHmac(hash, salted).update('Client Key').digest()
    const storedKey = createHash(hash).update(clientKey).digest()
    const authMessage = `${clientFirstBare},${serverFirst},${withoutProof}`
    const signature = createHmac(hash, storedKey).update(authMessage).digest()
    const proof = clientKey.map((byte, i) => byte ^ signature[i]!)
    this.send(
      `<response xmlns='${NS_SASL}'>${b64(`${withoutProof},p=${Buffer.from(proof).toString('base64')}`)}</response>`,
    )
    const outcome = await this.next((el) => el.name === 'success' || el.name === 'failure')
    if (outcome.name === 'success') {
      const serverKey = createHmac(hash, salted).update('Server Key').digest()
      const expected = `v=${createHmac(hash, serverKey).update(authMessage).digest('base64')}`
      if (Buffer.from(outcome.getText(), 'base64').toString() !== expected)
        throw new Error('bad server signature')
    }
    return outcome
  }

  /** STARTTLS, SASL, a new stream and resource binding; resolves with the bound full JID. */
  async login(
    cert: string,
    username: string,
    resource = '',
    mechanism: ScramMechanism | 'PLAIN' = 'SCRAM-SHA-256',
    password = PASSWORD,
  ) {
    await this.open()
    await this.starttls(cert)
    const outcome = await this.authenticate(mechanism, username, password)
    if (outcome.name !== 'success') throw new Error(`login failed: ${outcome}`)
    await this.open()
    return this.bind(resource)
  }

  async bind(resource = ''): Promise<string> {
    const res = resource ? `<resource>${resource}</resource>` : ''
    this.send(`<iq type='set' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>${res}</bind></iq>`)
    const result = await this.next((el) => el.name === 'iq' && el.attrs.id === 'bind')
    const jid = result.getChild('bind')?.getChildText('jid')
    if (!jid) throw new Error(`bind failed: ${result}`)
    return jid
  }

  /** The first received element (past or future) matching `match`; it is consumed. */
  async next(match: (el: Element) => boolean, timeoutMs = 5000): Promise<Element> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const index = this.received.findIndex(match)
      if (index >= 0) return this.received.splice(index, 1)[0]!
      if (this.ended) throw new Error(`stream ended; received: ${this.received.join(' ')}`)
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`timeout; received: ${this.received.join(' ')}`)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left)
        this.waiters.push(() => {
          clearTimeout(timer)
          resolve()
        })
      })
    }
  }

  /** The condition of the stream error the server sent, once the connection is closed. */
  async streamError(timeoutMs = 5000): Promise<string> {
    const error = await this.next((el) => el.name === 'stream:error', timeoutMs)
    await this.closed
    return error.getChildElements().find((child) => child.name !== 'text')?.name ?? 'none'
  }

  close(): void {
    this.socket.destroy()
  }

  private newParser(): StreamParser {
    return new StreamParser(
      { maxStanzaBytes: 16 * 1024 * 1024, maxDepth: 100 },
      {
        onStreamStart: (header) => {
          this.header = header
        },
        onElement: (el) => {
          if (this.onElement) return this.onElement(el)
          this.received.push(el)
          this.wake()
        },
        onStreamEnd: () => {
          this.ended = true
          this.wake()
        },
      },
    )
  }

  private watch(socket: Socket): Promise<void> {
    socket.on('data', (chunk: Buffer) => {
      try {
        this.parser.write(chunk)
      } catch {
        this.ended = true
        this.wake()
      }
    })
    socket.on('error', () => {})
    return new Promise((resolve) =>
      socket.once('close', () => {
        this.ended = true
        this.wake()
        resolve()
      }),
    )
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter()
  }
}

const saltedCache = new Map<string, Buffer>()

/** Hi() of RFC 5802, memoised: benchmarks log the same account in a thousand times. */
function saltedPassword(password: string, salt: Buffer, iterations: number, hash: 'sha1' | 'sha256'): Buffer {
  const key = `${hash}:${iterations}:${salt.toString('base64')}:${password}`
  let salted = saltedCache.get(key)
  if (!salted) {
    salted = pbkdf2Sync(password, salt, iterations, hash === 'sha256' ? 32 : 20, hash)
    saltedCache.set(key, salted)
  }
  return salted
}

function b64(text: string): string {
  return Buffer.from(text).toString('base64')
}

/** TLS options that trust exactly the test server's certificate, for the XMPP domain. */
export function trusting(cert: string) {
  return {
    ca: cert,
    servername: DOMAIN,
    checkServerIdentity: (_host: string, peer: Parameters<typeof checkServerIdentity>[1]) =>
      checkServerIdentity(DOMAIN, peer),
  }
}

function secure(socket: TLSSocket): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    socket.once('secureConnect', () => resolve(socket))
    socket.once('error', reject)
  })
}

function channelBinding(socket: TLSSocket, type: string): Buffer {
  if (type === 'tls-exporter')
    return socket.exportKeyingMaterial(32, 'EXPORTER-Channel-Binding', Buffer.alloc(0))
  return createHash('sha256').update(socket.getPeerX509Certificate()!.raw).digest()
}

import tls from 'node:tls'
import { type ClientOptions, client, type XmppClient } from '@xmpp/client'
import type { Element } from 'ltx'
import { PASSWORD } from './harness.js'
import { trusting } from './raw-client.js'

/** The certificate of the last server trusted without a port (one server at a time, as most tests run). */
let trusted: string | undefined
/** Certificates by server port: two servers' self-signed certificates share a subject, so OpenSSL must be given only the right one. */
const trustedByPort = new Map<number, string>()
let patched = false

/**
 * @xmpp/client verifies certificates against the system CAs and has no option
 * for another CA; the tests trust the server's self-signed certificate (as a
 * user accepting it would) by adding it to every TLS connection the client makes.
 */
export function trustCertificate(cert: string, port?: number): void {
  if (port === undefined) trusted = cert
  else trustedByPort.set(port, cert)
  if (patched) return
  patched = true
  const connect = tls.connect
  ;(tls as { connect: typeof tls.connect }).connect = ((
    options: tls.ConnectionOptions,
    ...rest: unknown[]
  ) => {
    const port = options.port ?? (options.socket as { remotePort?: number } | undefined)?.remotePort
    const cert = (port === undefined ? undefined : trustedByPort.get(port)) ?? trusted
    const socket = (connect as (...args: unknown[]) => tls.TLSSocket)(
      cert ? { ...options, ...trusting(cert) } : options,
      ...rest,
    )
    // @xmpp/connection 0.14 decodes each TCP chunk on its own (data.toString('utf8')), which
    // breaks a character split across two chunks (seen with 50 KB bodies); strings pass through intact.
    socket.setEncoding('utf8')
    return socket
  }) as typeof tls.connect
}

/** A logged-in @xmpp/client with every received stanza collected. */
export interface TestClient {
  xmpp: XmppClient
  jid: string
  stanzas: Element[]
  next(match: (el: Element) => boolean, timeoutMs?: number): Promise<Element>
  stop(): Promise<void>
}

export async function login(
  port: number,
  username: string,
  options: { resource?: string; direct?: boolean; mechanism?: string; password?: string } = {},
): Promise<TestClient> {
  const password = options.password ?? PASSWORD
  const params: ClientOptions = {
    service: `${options.direct ? 'xmpps' : 'xmpp'}://127.0.0.1:${port}`,
    domain: 'paranoim.localhost',
    resource: options.resource,
  }
  if (options.mechanism) {
    const mechanism = options.mechanism
    params.credentials = (authenticate) => authenticate({ username, password }, mechanism)
  } else {
    params.username = username
    params.password = password
  }
  const xmpp = client(params)
  xmpp.reconnect.stop()
  xmpp.timeout = 10_000 // the 2 s default is tight for a loaded CI machine
  xmpp.on('error', () => {})
  const stanzas: Element[] = []
  const waiters: (() => void)[] = []
  xmpp.on('stanza', (el: Element) => {
    stanzas.push(el)
    for (const wake of waiters.splice(0)) wake()
  })
  await xmpp.start()
  return {
    xmpp,
    jid: xmpp.jid!.toString(),
    stanzas,
    async next(match, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const index = stanzas.findIndex(match)
        if (index >= 0) return stanzas.splice(index, 1)[0]!
        const left = deadline - Date.now()
        if (left <= 0) throw new Error(`timeout; got ${stanzas.join(' ')}`)
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left)
          waiters.push(() => {
            clearTimeout(timer)
            resolve()
          })
        })
      }
    },
    async stop() {
      await xmpp.stop().catch(() => {})
    },
  }
}

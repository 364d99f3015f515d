// Types for the part of @xmpp/client (a dev dependency) the tests use.
declare module '@xmpp/client' {
  import type { EventEmitter } from 'node:events'
  import type { Socket } from 'node:net'
  import type { Element } from 'ltx'

  export interface ClientOptions {
    service: string
    domain?: string
    resource?: string
    username?: string
    password?: string
    credentials?: (
      authenticate: (credentials: { username: string; password: string }, mechanism: string) => Promise<void>,
      mechanisms: string[],
    ) => Promise<void>
  }

  export interface XmppClient extends EventEmitter {
    start(): Promise<unknown>
    stop(): Promise<void>
    send(element: Element): Promise<void>
    jid: { toString(): string } | null
    status: string
    /** Milliseconds to wait for stream opening/closing (default 2000). */
    timeout: number
    socket: { socket: Socket | null } | null
    iqCaller: { request(element: Element, timeout?: number): Promise<Element> }
    reconnect: { stop(): void }
    streamManagement: EventEmitter & { enabled: boolean; id: string; inbound: number; outbound: number }
  }

  export function client(options: ClientOptions): XmppClient
}

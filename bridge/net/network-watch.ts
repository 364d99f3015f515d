import { EventEmitter } from 'node:events'
import { networkInterfaces } from 'node:os'
import type { Logger } from '../log.js'
import type { Links } from './links.js'

/** What os.networkInterfaces() returns; injected so tests can change the machine's addresses. */
export type InterfaceLister = typeof networkInterfaces

export type RejoinReason = 'addresses-changed' | 'all-links-down'

export interface NetworkWatchEvents {
  /** The node may have moved or been cut off: the DHT layer should bootstrap again. */
  rejoin: [reason: RejoinReason]
}

export interface NetworkWatchOptions {
  links: Links
  intervalMs: number
  interfaces?: InterfaceLister
  log: Logger
}

/** The machine's external IPv4 addresses, sorted: equal strings mean nothing moved. */
export function addressFingerprint(interfaces: ReturnType<InterfaceLister>): string {
  const addresses: string[] = []
  for (const [name, infos] of Object.entries(interfaces)) {
    for (const info of infos ?? []) {
      if (info.family === 'IPv4' && !info.internal) addresses.push(`${name}=${info.address}`)
    }
  }
  return addresses.sort().join(',')
}

/**
 * Notices network changes without a restart: a periodic look at the local
 * interfaces (a new Wi-Fi, a DHCP renewal, a VPN) and the moment the last link
 * drops. Either way the initiator links handshake again at once and `rejoin`
 * tells the DHT layer to bootstrap again.
 */
export class NetworkWatch extends EventEmitter<NetworkWatchEvents> {
  readonly #links: Links
  readonly #interfaces: InterfaceLister
  readonly #intervalMs: number
  readonly #log: Logger
  #fingerprint = ''
  #timer: NodeJS.Timeout | undefined
  readonly #onAllDown = () => this.#rejoin('all-links-down')

  constructor(options: NetworkWatchOptions) {
    super()
    this.#links = options.links
    this.#interfaces = options.interfaces ?? networkInterfaces
    this.#intervalMs = options.intervalMs
    this.#log = options.log.child({ c: 'network-watch' })
  }

  start(): void {
    if (this.#timer) return
    this.#fingerprint = addressFingerprint(this.#interfaces())
    this.#links.on('allDown', this.#onAllDown)
    this.#timer = setInterval(() => this.check(), this.#intervalMs)
    this.#timer.unref()
  }

  stop(): void {
    clearInterval(this.#timer)
    this.#timer = undefined
    this.#links.off('allDown', this.#onAllDown)
  }

  /** Compares the interfaces with the last look; returns whether they changed (and acts on it). */
  check(): boolean {
    const fingerprint = addressFingerprint(this.#interfaces())
    if (fingerprint === this.#fingerprint) return false
    this.#log.info({ from: this.#fingerprint, to: fingerprint }, 'local addresses changed')
    this.#fingerprint = fingerprint
    this.#rejoin('addresses-changed')
    return true
  }

  #rejoin(reason: RejoinReason): void {
    this.#links.rehandshake()
    this.emit('rejoin', reason)
  }
}

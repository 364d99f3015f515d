import { EventEmitter } from 'node:events'
import type { OnionConfig } from '../config/sections/onion.js'
import type { Identity } from '../crypto/identity.js'
import type { BlindedRecords } from '../dht/blinded-records.js'
import type { RelayDirectory } from '../dht/relay-directory.js'
import type { Logger } from '../log.js'
import type { IntroPointInfo, RendezvousRecord } from '../wire/rendezvous.js'
import { OnionError } from './errors.js'
import { InboundTunnels } from './inbound-tunnels.js'
import { Introducer } from './introducer.js'
import type { OnionRouter } from './onion-router.js'
import { fetchRendezvous, publishRendezvous } from './rendezvous.js'

export interface OnionServiceOptions {
  router: OnionRouter
  directory: RelayDirectory
  blinded: BlindedRecords
  config: OnionConfig
  log: Logger
}

export interface OnionServiceEvents {
  /** A payload introduced to one of our identities. */
  message: [address: Uint8Array, payload: Uint8Array]
}

/**
 * What the layers above use: make a local identity reachable (inbound
 * tunnels + rendezvous record, republished whenever the intro points change)
 * and send a payload to any address (record lookup, outbound path, intro).
 */
export class OnionService extends EventEmitter<OnionServiceEvents> {
  readonly #options: OnionServiceOptions
  readonly #hosted = new Map<string, InboundTunnels>()
  readonly #records = new Map<string, RendezvousRecord>()
  readonly #introducer: Introducer

  constructor(options: OnionServiceOptions) {
    super()
    this.#options = options
    this.#introducer = new Introducer({
      ...options,
      avoid: () => [...this.#hosted.values()].flatMap((t) => [...t.relayIds()]),
    })
  }

  /** Builds the identity's inbound tunnels and publishes its record; returns them (for status and tests). */
  async host(identity: Identity): Promise<InboundTunnels> {
    const key = Buffer.from(identity.publicKey).toString('hex')
    const known = this.#hosted.get(key)
    if (known) return known
    const { router, directory, config, log, blinded } = this.#options
    const tunnels = new InboundTunnels({ router, directory, config, log })
    this.#hosted.set(key, tunnels)
    tunnels.on('message', (payload) => this.emit('message', identity.publicKey, payload))
    tunnels.on('changed', (introPoints) => {
      if (introPoints.length === 0) return
      publishRendezvous(blinded, identity, { introPoints, validUntil: tunnels.validUntil() }).catch(
        (error: unknown) => log.warn({ err: error }, 'rendezvous record not published'),
      )
    })
    await tunnels.start()
    if (tunnels.introPoints().length === 0)
      throw new OnionError('NO_PATH', 'no inbound tunnel could be built')
    await publishRendezvous(blinded, identity, {
      introPoints: tunnels.introPoints(),
      validUntil: tunnels.validUntil(),
    })
    return tunnels
  }

  unhost(address: Uint8Array): void {
    const key = Buffer.from(address).toString('hex')
    this.#hosted.get(key)?.stop()
    this.#hosted.delete(key)
    this.#options.blinded.disown(address)
  }

  /**
   * Sends `payload` (already sealed to the receiver by the caller) to
   * `address`; on failure looks the record up again once (intro points may
   * have changed) and retries.
   */
  async send(address: Uint8Array, payload: Uint8Array): Promise<IntroPointInfo> {
    const key = Buffer.from(address).toString('hex')
    const cached = this.#records.get(key)
    if (cached && cached.validUntil > this.#options.router.now()) {
      try {
        return await this.#introducer.send(cached, payload)
      } catch {
        this.#records.delete(key)
      }
    }
    const record = await fetchRendezvous(this.#options.blinded, address)
    if (!record) throw new OnionError('NO_RECORD', 'no rendezvous record for this address')
    this.#records.set(key, record)
    return this.#introducer.send(record, payload)
  }

  /** Forgets the cached record of `address` (the caller saw no acknowledgement: intro points may have changed). */
  forget(address: Uint8Array): void {
    this.#records.delete(Buffer.from(address).toString('hex'))
  }

  /** The relays of our outbound circuit to an intro point (first hop first, intro last), if one is kept. */
  outboundPath(intro: { nodeKey: Uint8Array }): string[] | undefined {
    return this.#introducer.pathTo(intro)
  }

  /** Hosted identities' inbound tunnels (one per intro point) and the outbound circuits kept, for status pages. */
  counts(): { inbound: number; outbound: number } {
    const inbound = [...this.#hosted.values()].reduce((sum, t) => sum + t.introPoints().length, 0)
    return { inbound, outbound: this.#introducer.circuitCount }
  }

  stop(): void {
    for (const tunnels of this.#hosted.values()) tunnels.stop()
    this.#hosted.clear()
    this.#introducer.stop()
  }
}

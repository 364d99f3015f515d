import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after } from 'node:test'
import { defaultConfig } from '../../bridge/config/schema.js'
import type { MessagingConfig } from '../../bridge/config/sections/messaging.js'
import { generateIdentity, type Identity, x25519FromEd25519PublicKey } from '../../bridge/crypto/identity.js'
import { nativeBackend } from '../../bridge/crypto/native.js'
import { xchachaOpen, xchachaSeal } from '../../bridge/crypto/xchacha.js'
import { silentLogger } from '../../bridge/log.js'
import { EnvelopeSealer, type OpenedEnvelope } from '../../bridge/messaging/envelope.js'
import { EnvelopeError } from '../../bridge/messaging/errors.js'
import {
  type InboundMessage,
  type MessageTransport,
  Messenger,
  type MessengerOptions,
} from '../../bridge/messaging/messenger.js'
import { openStore, type Store } from '../../bridge/store/index.js'
import { prng } from '../fuzz-prng.js'

/** Short timings so retries happen within a test; the hold timeout stays long unless a test shortens it. */
export function testConfig(overrides: Partial<MessagingConfig> = {}): MessagingConfig {
  return {
    ...defaultConfig().messaging,
    retryInitialMs: 20,
    retryMaxMs: 200,
    unreachableAfterMs: 400,
    holdTimeoutMs: 60_000,
    ...overrides,
  }
}

/**
 * A stand-in for the EnvelopeSealer that really encrypts and authenticates:
 * XChaCha20-Poly1305 under the static X25519 agreement of sender and
 * recipient. sender (32) ‖ nonce (24) ‖ sealed frame.
 */
export class StandInSealer {
  async seal(from: Identity, to: Uint8Array, frame: Uint8Array): Promise<Uint8Array> {
    const key = nativeBackend.x25519(from.x25519PrivateKey, x25519FromEd25519PublicKey(to))
    const nonce = nativeBackend.randomBytes(24)
    return new Uint8Array([...from.publicKey, ...nonce, ...xchachaSeal(key, nonce, frame, to)])
  }

  async open(to: Identity, envelope: Uint8Array): Promise<OpenedEnvelope> {
    if (envelope.length < 72) throw new EnvelopeError('ENVELOPE_MALFORMED', 'short envelope')
    const from = envelope.slice(0, 32)
    const key = nativeBackend.x25519(to.x25519PrivateKey, x25519FromEd25519PublicKey(from))
    const frame = xchachaOpen(key, envelope.subarray(32, 56), envelope.subarray(56), to.publicKey)
    return { from, frame }
  }
}

export interface Faults {
  /** Probability (0–1) that an envelope is lost, duplicated, or held back 0–30 ms (reordering). */
  loss?: number
  duplicate?: number
  reorder?: number
  /** Drops everything while true. */
  down?: boolean
  /** Drops this many envelopes, then lets them through. */
  dropNext?: number
  /** Lets this many envelopes through, then drops everything (until changed). */
  budget?: number
  /** transport.send throws this many times (no route), then works. */
  throwNext?: number
}

/** An in-process network between Messengers, with seeded loss, duplication and reordering. */
export class Network {
  private readonly nodes = new Map<string, Messenger>()
  private readonly random: (n: number) => number
  readonly faults: Faults
  sent = 0
  forgotten = 0

  constructor(faults: Faults = {}, seed = Number(process.env.FUZZ_SEED ?? 12345)) {
    this.faults = { ...faults }
    this.random = prng(seed)
  }

  attach(address: Uint8Array, messenger: Messenger): void {
    this.nodes.set(Buffer.from(address).toString('hex'), messenger)
  }

  detach(address: Uint8Array): void {
    this.nodes.delete(Buffer.from(address).toString('hex'))
  }

  transport(): MessageTransport {
    return {
      send: async (to, envelope) => this.carry(to, envelope),
      forget: () => {
        this.forgotten++
      },
    }
  }

  private chance(p = 0): boolean {
    return this.random(1_000_000) < p * 1_000_000
  }

  private carry(to: Uint8Array, envelope: Uint8Array): void {
    if (this.faults.throwNext) {
      this.faults.throwNext--
      throw new Error('no route to the recipient')
    }
    this.sent++
    if (this.faults.dropNext) {
      this.faults.dropNext--
      return
    }
    if (this.faults.budget !== undefined && this.faults.budget-- <= 0) return
    if (this.faults.down || this.chance(this.faults.loss)) return
    const copies = this.chance(this.faults.duplicate) ? 2 : 1
    for (let i = 0; i < copies; i++) {
      const delay = this.chance(this.faults.reorder) ? this.random(30) : 0
      setTimeout(() => {
        void this.nodes.get(Buffer.from(to).toString('hex'))?.receive(to, envelope)
      }, delay)
    }
  }
}

/** One bridge: an identity, its LevelDB in a directory, its Messenger and what it delivered. */
export interface Peer {
  identity: Identity
  dir: string
  store: Store
  messenger: Messenger
  delivered: InboundMessage[]
}

export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'paranoim-messenger-'))
  after(() => rm(dir, { recursive: true, force: true }))
  return dir
}

export interface PeerOptions {
  config?: MessagingConfig
  identity?: Identity
  dir?: string
  sealer?: 'real' | 'stand-in'
  deliver?: (message: InboundMessage, peer: Peer) => Promise<void>
  maxFrameBytes?: number
  delivered?: InboundMessage[]
  now?: () => number
  random?: (n: number) => Uint8Array
}

/** Starts (or restarts, with the same identity and dir) a peer on the network. */
export async function startPeer(network: Network, options: PeerOptions = {}): Promise<Peer> {
  const identity = options.identity ?? generateIdentity()
  const dir = options.dir ?? (await tempDir())
  const store = await openStore({ dataDir: dir })
  const config = options.config ?? testConfig()
  const sealer = options.sealer === 'real' ? new EnvelopeSealer({ store, config }) : new StandInSealer()
  const delivered = options.delivered ?? []
  const peer = { identity, dir, store, delivered } as Peer
  const messengerOptions: MessengerOptions = {
    store,
    config,
    sealer,
    transport: network.transport(),
    log: silentLogger,
    maxFrameBytes: options.maxFrameBytes,
    now: options.now,
    random: options.random,
    deliver: async (message) => {
      if (options.deliver) await options.deliver(message, peer)
      delivered.push(message)
    },
  }
  peer.messenger = new Messenger(messengerOptions)
  peer.messenger.addIdentity(identity)
  network.attach(identity.publicKey, peer.messenger)
  return peer
}

/** Stops a peer as a kill -9 would leave it: timers gone, nothing flushed, the store closed. */
export async function killPeer(network: Network, peer: Peer): Promise<void> {
  network.detach(peer.identity.publicKey)
  await peer.messenger.stop()
  await peer.store.close()
}

/** Polls until `done()` or the deadline (generous: the machine may be loaded). */
export async function until(done: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

export const text = (message: InboundMessage) => new TextDecoder().decode(message.body)
export const bytes = (s: string) => new TextEncoder().encode(s)

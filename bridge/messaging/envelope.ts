import type { MessagingConfig } from '../config/sections/messaging.js'
import type { CryptoBackend } from '../crypto/backend.js'
import { defaultBackend } from '../crypto/default-backend.js'
import { CryptoError } from '../crypto/errors.js'
import { type Identity, x25519FromEd25519PublicKey } from '../crypto/identity.js'
import type { Store } from '../store/index.js'
import {
  decodeEnvelope,
  decodeEnvelopeBody,
  EnvelopeWireError,
  encodeEnvelope,
  encodeEnvelopeBody,
  MAX_FRAME_BYTES,
} from '../wire/envelope.js'
import { openEnvelope, sealEnvelope } from './envelope-noise.js'
import { EnvelopeError } from './errors.js'
import { Prekeys } from './prekeys.js'

export { ENVELOPE_LENGTH, ENVELOPE_OVERHEAD, MAX_FRAME_BYTES } from '../wire/envelope.js'

export interface OpenedEnvelope {
  /** The sender's Ed25519 public key: its address, authenticated. */
  from: Uint8Array
  frame: Uint8Array
}

export interface EnvelopeSealerOptions {
  store: Store
  config: MessagingConfig
  backend?: CryptoBackend
  now?: () => number
  /** @internal Tests fix ephemeral and prekey private keys with it. */
  random?: (n: number) => Uint8Array
}

/** Entries per key cache, at most: anyone may send from fresh addresses. */
const CACHE_SIZE = 1024

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')

function remember(cache: Map<string, Uint8Array>, key: string, value: Uint8Array): void {
  if (cache.size >= CACHE_SIZE) cache.clear()
  cache.set(key, value)
}

/**
 * Seals frames into end-to-end envelopes and opens them
 * (docs/protocol.md "End-to-end envelopes"): encrypted to the recipient's
 * identity, authenticated as the sender's, the sender hidden from everyone
 * else, forward secret once both sides have sent each other an envelope
 * (each carries its sender's current prekey). Replays are the caller's to
 * catch: the same envelope opens twice.
 */
export class EnvelopeSealer {
  private readonly backend: CryptoBackend
  private readonly random: (n: number) => Uint8Array
  private readonly prekeys: Prekeys
  private readonly x25519Keys = new Map<string, Uint8Array>()
  private readonly sharedKeys = new Map<string, Uint8Array>()

  constructor(options: EnvelopeSealerOptions) {
    this.backend = options.backend ?? defaultBackend
    this.random = options.random ?? ((n) => this.backend.randomBytes(n))
    this.prekeys = new Prekeys({
      store: options.store,
      config: options.config,
      backend: this.backend,
      now: options.now ?? Date.now,
      random: this.random,
    })
  }

  /**
   * Always ENVELOPE_LENGTH bytes. Throws EnvelopeError FRAME_TOO_LARGE or RECIPIENT_INVALID.
   * `prekey: false` seals to the recipient's identity key alone (prekey id zero): for a
   * mailbox, whose items outlive every prekey (docs/protocol.md "Mailboxes"). Such an
   * envelope is not forward secret.
   */
  async seal(
    from: Identity,
    to: Uint8Array,
    frame: Uint8Array,
    options: { prekey?: boolean } = {},
  ): Promise<Uint8Array> {
    if (frame.length > MAX_FRAME_BYTES)
      throw new EnvelopeError('FRAME_TOO_LARGE', `frame of ${frame.length} bytes; at most ${MAX_FRAME_BYTES}`)
    const { recipientStatic, staticShared } = this.recipientKeys(from, to)
    const own = await this.prekeys.current(from.publicKey)
    const peer = options.prekey === false ? undefined : await this.prekeys.peer(from.publicKey, to)
    const body = encodeEnvelopeBody({ prekey: own.publicKey, prekeyValidUntil: own.validUntil, frame })
    const parts = sealEnvelope(this.backend, {
      sender: from,
      recipient: to,
      recipientStatic,
      ephemeralPrivate: this.random(32),
      recipientPrekey: peer,
      body,
      staticShared,
    })
    return encodeEnvelope(parts)
  }

  /** Throws EnvelopeError: MALFORMED, AUTH, SENDER or PREKEY_UNKNOWN. */
  async open(to: Identity, envelope: Uint8Array): Promise<OpenedEnvelope> {
    const parts = malformedIfWire(() => decodeEnvelope(envelope))
    const prekeys = await this.prekeys.privateKeys(to.publicKey)
    const opened = openEnvelope(this.backend, to, parts, prekeys, (sender) =>
      this.staticShared(to, sender, () => this.toX25519(sender)),
    )
    const body = malformedIfWire(() => decodeEnvelopeBody(opened.body))
    const usable = await this.prekeys.learn(to.publicKey, opened.sender, body.prekey, body.prekeyValidUntil)
    if (!usable) throw new EnvelopeError('ENVELOPE_SENDER', 'the prekey the sender announces is low-order')
    return { from: opened.sender, frame: body.frame }
  }

  /** Deletes expired prekeys (private halves included). Call it on a timer; see Prekeys.expire. */
  expire(): Promise<void> {
    return this.prekeys.expire()
  }

  private recipientKeys(from: Identity, to: Uint8Array) {
    try {
      const recipientStatic = this.toX25519(to)
      return { recipientStatic, staticShared: this.staticShared(from, to, () => recipientStatic) }
    } catch (cause) {
      if (cause instanceof CryptoError)
        throw new EnvelopeError('RECIPIENT_INVALID', 'the recipient address is not a usable key', { cause })
      throw cause
    }
  }

  /** DH(local static, peer static), cached: it never changes for a pair and is a third of the work. */
  private staticShared(local: Identity, peer: Uint8Array, peerStatic: () => Uint8Array): Uint8Array {
    const key = `${hex(local.publicKey)}:${hex(peer)}`
    let known = this.sharedKeys.get(key)
    if (!known) {
      known = this.backend.x25519(local.x25519PrivateKey, peerStatic())
      remember(this.sharedKeys, key, known)
    }
    return known
  }

  /** x25519FromEd25519PublicKey, cached: it is the slowest step of a seal or an open. */
  private toX25519(address: Uint8Array): Uint8Array {
    const key = hex(address)
    let known = this.x25519Keys.get(key)
    if (!known) {
      known = x25519FromEd25519PublicKey(address)
      remember(this.x25519Keys, key, known)
    }
    return known
  }
}

function malformedIfWire<T>(decode: () => T): T {
  try {
    return decode()
  } catch (cause) {
    if (cause instanceof EnvelopeWireError)
      throw new EnvelopeError('ENVELOPE_MALFORMED', cause.message, { cause })
    throw cause
  }
}

import { z } from 'zod'
import type { MessagingConfig } from '../config/sections/messaging.js'
import type { CryptoBackend } from '../crypto/backend.js'
import { DOMAIN } from '../crypto/domains.js'
import { CryptoError } from '../crypto/errors.js'
import { type BatchOp, bytesSchema, jsonCodec, type Store, type Table } from '../store/index.js'
import { isNoPrekey, PREKEY_ID_LENGTH } from '../wire/envelope.js'

/**
 * Prekeys: the receiving half of the envelopes' forward secrecy
 * (docs/protocol.md "End-to-end envelopes" → "Prekeys"). Each local identity
 * has a current X25519 prekey, replaced every `prekeyRotationMs`; the private
 * half of each is deleted `prekeyLifetimeMs` after it was made (its "valid
 * until", announced in every envelope the identity sends). For each (local
 * identity, peer) we keep the peer's latest announced prekey and seal to it
 * while it has more than PREKEY_MARGIN_MS to live.
 */

/** A peer's prekey is used only while it lives this much longer: absorbs transit time and clock skew. */
export const PREKEY_MARGIN_MS = 10 * 60 * 1000

/** A peer's announced valid-until is capped this far ahead, so a record from anyone expires at last. */
export const MAX_PEER_PREKEY_MS = 30 * 24 * 60 * 60 * 1000

export interface OwnPrekey {
  id: Uint8Array
  publicKey: Uint8Array
  privateKey: Uint8Array
  createdAt: number
  validUntil: number
}

export interface PeerPrekey {
  id: Uint8Array
  publicKey: Uint8Array
  validUntil: number
}

const time = z.number().int().nonnegative()
const ownRecord = z.strictObject({
  publicKey: bytesSchema,
  privateKey: bytesSchema,
  createdAt: time,
  validUntil: time,
})
const peerRecord = z.strictObject({ publicKey: bytesSchema, validUntil: time })

/** A prekey's id: SHA-256(DOMAIN.envelopePrekeyId ‖ public key)[0..8]. */
export function prekeyId(backend: CryptoBackend, publicKey: Uint8Array): Uint8Array {
  const domain = new TextEncoder().encode(DOMAIN.envelopePrekeyId)
  const data = new Uint8Array(domain.length + publicKey.length)
  data.set(domain, 0)
  data.set(publicKey, domain.length)
  return backend.sha256(data).slice(0, PREKEY_ID_LENGTH)
}

/** Any clamped scalar kills a point's small-order part, so X25519 with it is zero exactly for low-order points. */
const PROBE_SCALAR = new Uint8Array(32).fill(1)

function usableKey(backend: CryptoBackend, publicKey: Uint8Array): boolean {
  try {
    backend.x25519(PROBE_SCALAR, publicKey)
    return true
  } catch (err) {
    if (err instanceof CryptoError) return false
    throw err
  }
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')

export interface PrekeysOptions {
  store: Store
  config: Pick<MessagingConfig, 'prekeyRotationMs' | 'prekeyLifetimeMs'>
  backend: CryptoBackend
  now: () => number
  random: (n: number) => Uint8Array
}

/** Own prekeys (with private halves) and peers' prekeys, in LevelDB, cached in memory. */
export class Prekeys {
  private readonly own: Table<z.infer<typeof ownRecord>>
  private readonly peers: Table<z.infer<typeof peerRecord>>
  /** Owner (hex) → its prekeys with private halves, oldest first. */
  private readonly owned = new Map<string, Promise<OwnPrekey[]>>()
  private readonly rotating = new Map<string, Promise<OwnPrekey>>()
  /** "owner:peer" (hex) → the peer's latest prekey, null when none is stored. */
  private readonly peerCache = new Map<string, PeerPrekey | null>()

  constructor(private readonly options: PrekeysOptions) {
    this.own = options.store.table('msg-prekeys', jsonCodec(ownRecord))
    this.peers = options.store.table('msg-peer-prekeys', jsonCodec(peerRecord))
  }

  /** The prekey `owner` announces now; made (and stored) first when the last one is due for rotation. */
  async current(owner: Uint8Array): Promise<OwnPrekey> {
    const key = hex(owner)
    const keys = await this.ownerKeys(key)
    const newest = keys.at(-1)
    if (newest && this.options.now() < newest.createdAt + this.rotateAfterMs()) return newest
    let rotation = this.rotating.get(key)
    if (!rotation) {
      rotation = this.create(key, keys).finally(() => this.rotating.delete(key))
      this.rotating.set(key, rotation)
    }
    return rotation
  }

  /** A lookup of `owner`'s unexpired prekey private halves by id. */
  async privateKeys(owner: Uint8Array): Promise<(id: Uint8Array) => Uint8Array | undefined> {
    const keys = await this.ownerKeys(hex(owner))
    return (id) => {
      const wanted = hex(id)
      return keys.find((k) => hex(k.id) === wanted)?.privateKey
    }
  }

  /** The peer's prekey to seal to, when one is known and lives at least PREKEY_MARGIN_MS longer. */
  async peer(owner: Uint8Array, peer: Uint8Array): Promise<PeerPrekey | undefined> {
    const known = await this.peerKey(`${hex(owner)}:${hex(peer)}`)
    return known && known.validUntil - this.options.now() > PREKEY_MARGIN_MS ? known : undefined
  }

  /**
   * Remembers the prekey a peer announced in an authentic envelope, if it is
   * later than the one we have (envelopes arrive out of order) and still
   * valid. Returns false when it is not a usable X25519 key (a broken peer).
   */
  async learn(
    owner: Uint8Array,
    peer: Uint8Array,
    publicKey: Uint8Array,
    validUntil: number,
  ): Promise<boolean> {
    const key = `${hex(owner)}:${hex(peer)}`
    const known = await this.peerKey(key)
    const now = this.options.now()
    const until = Math.min(validUntil, now + MAX_PEER_PREKEY_MS)
    if (until <= now || (known && known.validUntil >= until)) return true
    if (!usableKey(this.options.backend, publicKey)) return false
    // The cache first, in the same tick as the check: of two concurrent learns the later key wins.
    this.peerCache.set(key, { id: prekeyId(this.options.backend, publicKey), publicKey, validUntil: until })
    await this.peers.put(key, { publicKey, validUntil: until })
    return true
  }

  /**
   * Deletes every own prekey past its valid-until (private half included) and
   * every peer prekey past its own. The bridge calls this on a timer, so keys
   * go even while an identity is idle; current() and privateKeys() also drop
   * the expired keys they see.
   */
  async expire(): Promise<void> {
    const now = this.options.now()
    const ops: BatchOp[] = []
    for await (const [key, record] of this.own.entries())
      if (record.validUntil <= now) ops.push(this.own.delOp(key))
    for await (const [key, record] of this.peers.entries())
      if (record.validUntil <= now) {
        ops.push(this.peers.delOp(key))
        this.peerCache.delete(key)
      }
    for (const keys of this.owned.values()) this.dropExpired(await keys.catch(() => []))
    await this.options.store.batch(ops)
  }

  /** The rotation interval, but never more than half a lifetime, so the announced key always has time left. */
  private rotateAfterMs(): number {
    return Math.min(this.options.config.prekeyRotationMs, this.options.config.prekeyLifetimeMs / 2)
  }

  private async create(owner: string, keys: OwnPrekey[]): Promise<OwnPrekey> {
    const { backend, random, now, config } = this.options
    let privateKey: Uint8Array
    let publicKey: Uint8Array
    let id: Uint8Array
    do {
      privateKey = random(32)
      publicKey = backend.x25519PublicKey(privateKey)
      id = prekeyId(backend, publicKey)
    } while (isNoPrekey(id)) // the all-zero id means "no prekey"
    const createdAt = now()
    const prekey = { id, publicKey, privateKey, createdAt, validUntil: createdAt + config.prekeyLifetimeMs }
    await this.own.put(`${owner}:${hex(id)}`, {
      publicKey,
      privateKey,
      createdAt,
      validUntil: prekey.validUntil,
    })
    keys.push(prekey)
    await this.dropOwnerExpired(owner, keys)
    return prekey
  }

  private ownerKeys(owner: string): Promise<OwnPrekey[]> {
    let keys = this.owned.get(owner)
    if (!keys) {
      keys = this.load(owner)
      this.owned.set(owner, keys)
      keys.catch(() => this.owned.delete(owner))
    }
    return keys.then(async (k) => {
      await this.dropOwnerExpired(owner, k)
      return k
    })
  }

  private async load(owner: string): Promise<OwnPrekey[]> {
    const keys: OwnPrekey[] = []
    for await (const [key, record] of this.own.entries({ prefix: `${owner}:` }))
      keys.push({ id: new Uint8Array(Buffer.from(key.slice(owner.length + 1), 'hex')), ...record })
    return keys.sort((a, b) => a.createdAt - b.createdAt)
  }

  /** Removes the expired keys from `keys` (in place) and from the store. */
  private async dropOwnerExpired(owner: string, keys: OwnPrekey[]): Promise<void> {
    const expired = this.dropExpired(keys)
    if (expired.length)
      await this.options.store.batch(expired.map((k) => this.own.delOp(`${owner}:${hex(k.id)}`)))
  }

  /** Takes the expired keys out of `keys` (in place), zeroes their private halves, returns them. */
  private dropExpired(keys: OwnPrekey[]): OwnPrekey[] {
    const now = this.options.now()
    const expired = keys.filter((k) => k.validUntil <= now)
    if (expired.length === 0) return expired
    keys.splice(0, keys.length, ...keys.filter((k) => k.validUntil > now))
    for (const k of expired) k.privateKey.fill(0)
    return expired
  }

  private async peerKey(key: string): Promise<PeerPrekey | undefined> {
    let known = this.peerCache.get(key)
    if (known === undefined) {
      const record = await this.peers.get(key)
      known = record ? { id: prekeyId(this.options.backend, record.publicKey), ...record } : null
      this.peerCache.set(key, known)
    }
    return known ?? undefined
  }
}

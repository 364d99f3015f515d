import { z } from 'zod'
import {
  type CryptoBackend,
  DOMAIN,
  defaultBackend,
  type Identity,
  identityFromSeed,
  xchachaOpen,
  xchachaSeal,
} from '../crypto/index.js'
import { bytesSchema, jsonCodec, type Store, type Table } from '../store/index.js'
import type { ScramHash } from '../xmpp/sasl/scram.js'

const SCRAM_HASHES: ScramHash[] = ['SHA-256', 'SHA-1']

const wrappedSeed = z.strictObject({
  /** 24-byte XChaCha20 nonce. */
  nonce: bytesSchema,
  /** The 32-byte seed sealed (48 bytes), the account name as associated data. */
  sealed: bytesSchema,
})

type WrappedSeed = z.infer<typeof wrappedSeed>

const encoder = new TextEncoder()

/**
 * A second copy of each identity's seed, wrapped under a key derived from the
 * account's SCRAM ClientKeys (SHA-256 and SHA-1: clients choose), so a Jabber login opens the identity
 * without the user typing the password twice (docs/xmpp.md "SCRAM and the
 * identity key"). ClientKey is never stored: the server only learns it during
 * a login (ClientProof ⊕ ClientSignature), so the wrapped copy is as strong as
 * the stored SCRAM keys are against guessing (PBKDF2 with their salt and
 * iteration count) — weaker than the scrypt-sealed key, which is why the key
 * backups never contain it.
 */
export class LoginUnlock {
  readonly #table: Table<WrappedSeed>
  readonly #store: Store
  readonly #backend: CryptoBackend

  constructor(store: Store, backend: CryptoBackend = defaultBackend) {
    this.#store = store
    this.#table = store.table('identity-login-unlock', jsonCodec(wrappedSeed))
    this.#backend = backend
  }

  /** Stores the seed wrapped under each SCRAM hash's ClientKey (replacing older copies). */
  async wrap(account: string, identity: Identity, clientKeys: Record<ScramHash, Uint8Array>): Promise<void> {
    const ops = Object.entries(clientKeys).map(([hash, clientKey]) => {
      const nonce = this.#backend.randomBytes(24)
      const key = this.#key(clientKey)
      try {
        const sealed = xchachaSeal(key, nonce, identity.seed, encoder.encode(account), this.#backend)
        return this.#table.putOp(`${account}/${hash}`, { nonce, sealed })
      } finally {
        key.fill(0)
      }
    })
    await this.#store.batch(ops)
  }

  /**
   * The identity, when a copy exists and `clientKey` opens it; undefined
   * otherwise. The key's length tells the login's hash (SHA-256: 32 bytes, SHA-1: 20).
   */
  async open(account: string, clientKey: Uint8Array): Promise<Identity | undefined> {
    const hash: ScramHash = clientKey.length === 20 ? 'SHA-1' : 'SHA-256'
    const wrapped = await this.#table.get(`${account}/${hash}`)
    if (!wrapped) return undefined
    const key = this.#key(clientKey)
    try {
      const seed = xchachaOpen(key, wrapped.nonce, wrapped.sealed, encoder.encode(account), this.#backend)
      const identity = identityFromSeed(seed, this.#backend)
      seed.fill(0)
      return identity
    } catch {
      return undefined
    } finally {
      key.fill(0)
    }
  }

  delOps(account: string) {
    return SCRAM_HASHES.map((hash) => this.#table.delOp(`${account}/${hash}`))
  }

  #key(clientKey: Uint8Array): Uint8Array {
    return this.#backend.hkdfSha256(clientKey, new Uint8Array(0), encoder.encode(DOMAIN.xmppUnlock), 32)
  }
}

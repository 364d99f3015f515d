import { z } from 'zod'
import { identitiesTable, jsonCodec, type Store, type Table } from '../store/index.js'
import { XMPPError } from './errors.js'
import { deriveScramKeys, newScramCredential, type ScramCredential, type ScramHash } from './sasl/scram.js'

/** Nicknames are XMPP localparts (TEAM contract): lowercase ASCII, so no stringprep ambiguity. */
export const NICKNAME = /^[a-z0-9][a-z0-9._-]{0,31}$/

const scramCredential = z.strictObject({
  salt: z.instanceof(Uint8Array),
  iterations: z.number().int().positive(),
  storedKey: z.instanceof(Uint8Array),
  serverKey: z.instanceof(Uint8Array),
})

const accountCredentials = z.strictObject({
  'SHA-256': scramCredential,
  'SHA-1': scramCredential,
})

export type AccountCredentials = z.infer<typeof accountCredentials>

/** SCRAM salted credentials per account (nickname); the only form a password is ever kept in. */
export function credentialsTable(store: Store): Table<AccountCredentials> {
  return store.table('xmpp-credentials', jsonCodec(accountCredentials))
}

/** PBKDF2 rounds for stored SCRAM keys: RFC 7677 asks for at least 4096; 10,000 costs a client ~5 ms. */
export const DEFAULT_SCRAM_ITERATIONS = 10_000

/**
 * Sets (or replaces) an account's XMPP password: stores only SCRAM-SHA-256 and
 * SCRAM-SHA-1 salted keys (salt, iterations, StoredKey, ServerKey). Returns the
 * ClientKey of each, which is never stored (the login unlock wraps under them).
 */
export async function setAccountPassword(
  store: Store,
  nickname: string,
  password: string,
  iterations = DEFAULT_SCRAM_ITERATIONS,
): Promise<Record<ScramHash, Uint8Array>> {
  if (!NICKNAME.test(nickname)) throw new XMPPError('jid-malformed', `"${nickname}" is not a valid nickname`)
  if (password.length === 0) throw new XMPPError('not-acceptable', 'the password is empty')
  const sha256 = newScramCredential('SHA-256', password, iterations)
  const sha1 = newScramCredential('SHA-1', password, iterations)
  await credentialsTable(store).put(nickname, { 'SHA-256': sha256.credential, 'SHA-1': sha1.credential })
  return { 'SHA-256': sha256.clientKey, 'SHA-1': sha1.clientKey }
}

/** Whether an identity with this nickname exists: an account is an identity (TEAM contract). */
export async function identityExists(store: Store, nickname: string): Promise<boolean> {
  for await (const [, identity] of identitiesTable(store).entries()) {
    if (identity.nickname === nickname) return true
  }
  return false
}

/** Looks up logins: an account needs both an identity and stored credentials. */
export class Accounts {
  private readonly credentials: Table<AccountCredentials>

  constructor(private readonly store: Store) {
    this.credentials = credentialsTable(store)
  }

  exists(nickname: string): Promise<boolean> {
    return NICKNAME.test(nickname) ? identityExists(this.store, nickname) : Promise.resolve(false)
  }

  async scramCredential(nickname: string, hash: ScramHash): Promise<ScramCredential | undefined> {
    if (!(await this.exists(nickname))) return undefined
    return (await this.credentials.get(nickname))?.[hash]
  }

  /**
   * The ClientKey of each SCRAM hash for `password`, when it matches the stored
   * keys: what a SCRAM-SHA-256 and a SCRAM-SHA-1 login will reveal (the login unlock wraps for both).
   */
  async clientKeys(nickname: string, password: string): Promise<Record<ScramHash, Uint8Array> | undefined> {
    const sha256 = await this.checkPassword(nickname, password)
    const stored = await this.scramCredential(nickname, 'SHA-1')
    if (!sha256 || !stored) return undefined
    const sha1 = deriveScramKeys('SHA-1', password, stored.salt, stored.iterations)
    if (!Buffer.from(sha1.storedKey).equals(stored.storedKey)) return undefined
    return { 'SHA-256': sha256, 'SHA-1': sha1.clientKey }
  }

  /** PLAIN: checks a password against the stored SCRAM-SHA-256 keys and returns its ClientKey, or undefined. */
  async checkPassword(nickname: string, password: string): Promise<Uint8Array | undefined> {
    const stored = await this.scramCredential(nickname, 'SHA-256')
    if (!stored) return undefined
    const derived = deriveScramKeys('SHA-256', password, stored.salt, stored.iterations)
    return Buffer.from(derived.storedKey).equals(stored.storedKey) ? derived.clientKey : undefined
  }
}

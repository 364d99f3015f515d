import { z } from 'zod'
import { encodeAddress } from '../../crypto/address.js'
import type { CryptoBackend } from '../../crypto/backend.js'
import { DOMAIN } from '../../crypto/domains.js'
import { AeadError } from '../../crypto/errors.js'
import { type Identity, identityFromSeed } from '../../crypto/identity.js'
import { xchachaOpen, xchachaSeal } from '../../crypto/xchacha.js'
import { bytesSchema, jsonCodec, type Store, type Table } from '../../store/index.js'
import { GroupError } from './errors.js'

/**
 * A group's own key pair (docs/groups.md "Group identity"): Ed25519 like an
 * identity, its address = encodeAddress(public key), its seed known to the
 * group's owners only. It signs the group's first state and may sign any
 * later one with owner rights.
 *
 * At rest the seed is sealed under its owner's identity: XChaCha20-Poly1305
 * with key = HKDF-SHA-256(owner seed, salt = group key, info =
 * "paranoim/v1/group-seed-wrap"), AAD = owner address ‖ group key. The owner's
 * seed is itself on disk only sealed by the password, so the group seed is
 * exactly as safe as the identity that owns it and opens whenever it is
 * unlocked — no second password.
 */
export type GroupKeyPair = Pick<Identity, 'seed' | 'publicKey'>

export function generateGroupKey(backend: CryptoBackend): GroupKeyPair {
  const { seed, publicKey } = identityFromSeed(backend.randomBytes(32), backend)
  return { seed, publicKey }
}

export const groupAddress = (group: Uint8Array): string => encodeAddress(group)

const sealedGroupSeed = z.strictObject({
  /** 24-byte XChaCha20 nonce. */
  nonce: bytesSchema,
  /** The 32-byte group seed sealed (48 bytes). */
  sealed: bytesSchema,
})
export type SealedGroupSeed = z.infer<typeof sealedGroupSeed>

/** The owners' sealed group seeds, keyed `owner hex:group hex`. */
export function groupSeedsTable(store: Store): Table<SealedGroupSeed> {
  return store.table('group-seeds', jsonCodec(sealedGroupSeed))
}

function wrapKey(backend: CryptoBackend, owner: Identity, group: Uint8Array): Uint8Array {
  return backend.hkdfSha256(owner.seed, group, new TextEncoder().encode(DOMAIN.groupSeedWrap), 32)
}

function aad(owner: Identity, group: Uint8Array): Uint8Array {
  const out = new Uint8Array(64)
  out.set(owner.publicKey)
  out.set(group, 32)
  return out
}

export function sealGroupSeed(
  backend: CryptoBackend,
  owner: Identity,
  key: GroupKeyPair,
  nonce: Uint8Array = backend.randomBytes(24),
): SealedGroupSeed {
  const wrap = wrapKey(backend, owner, key.publicKey)
  try {
    return { nonce, sealed: xchachaSeal(wrap, nonce, key.seed, aad(owner, key.publicKey), backend) }
  } finally {
    wrap.fill(0)
  }
}

/** Throws GroupError MESSAGE_AUTH when the record was not sealed by this owner for this group (or was altered). */
export function openGroupSeed(
  backend: CryptoBackend,
  owner: Identity,
  group: Uint8Array,
  record: SealedGroupSeed,
): GroupKeyPair {
  const wrap = wrapKey(backend, owner, group)
  try {
    const seed = xchachaOpen(wrap, record.nonce, record.sealed, aad(owner, group), backend)
    const key = identityFromSeed(seed, backend)
    seed.fill(0)
    if (Buffer.compare(key.publicKey, group) !== 0)
      throw new GroupError('MESSAGE_AUTH', 'the sealed seed is not the seed of this group')
    return { seed: key.seed, publicKey: key.publicKey }
  } catch (cause) {
    if (cause instanceof AeadError)
      throw new GroupError('MESSAGE_AUTH', 'the group seed does not open for this owner', { cause })
    throw cause
  } finally {
    wrap.fill(0)
  }
}

/** Keeps `key`'s seed for `owner`, sealed (replacing an older copy). */
export async function saveGroupSeed(
  store: Store,
  backend: CryptoBackend,
  owner: Identity,
  key: GroupKeyPair,
) {
  await groupSeedsTable(store).put(
    seedKey(owner.publicKey, key.publicKey),
    sealGroupSeed(backend, owner, key),
  )
}

/** The group key pair `owner` keeps for `group`, or undefined when it keeps none. */
export async function loadGroupSeed(
  store: Store,
  backend: CryptoBackend,
  owner: Identity,
  group: Uint8Array,
): Promise<GroupKeyPair | undefined> {
  const record = await groupSeedsTable(store).get(seedKey(owner.publicKey, group))
  return record && openGroupSeed(backend, owner, group, record)
}

/** Deletes `owner`'s copy of the seed of `group` (the group was destroyed); nothing when it keeps none. */
export async function deleteGroupSeed(store: Store, owner: Uint8Array, group: Uint8Array): Promise<void> {
  await groupSeedsTable(store).del(seedKey(owner, group))
}

const seedKey = (owner: Uint8Array, group: Uint8Array): string =>
  `${Buffer.from(owner).toString('hex')}:${Buffer.from(group).toString('hex')}`

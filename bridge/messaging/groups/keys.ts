import type { CryptoBackend } from '../../crypto/backend.js'
import { DOMAIN } from '../../crypto/domains.js'
import { type Identity, identityFromSeed } from '../../crypto/identity.js'

/**
 * Epoch key material (docs/groups.md "Key rotation"). The owner/admin who
 * signs an update that starts an epoch draws 32 random bytes for the epoch key
 * and 32 for the group mailbox seed and sends both, in a key package, to every
 * remaining member over the pairwise messenger. Everything else derives:
 *
 *   message key        = HKDF-SHA-256(epoch key, salt = group key, info = "paranoim/v1/group-message-key" ‖ epoch (4))
 *   mailbox identity   = the Ed25519 seed HKDF-SHA-256(mailbox seed, salt = group key,
 *                        info = "paranoim/v1/group-mailbox-seed" ‖ epoch (4)); its
 *                        mailbox key per period is the usual blinded one (onion/mailbox-address.ts)
 *   mailbox item key   = HKDF-SHA-256(mailbox seed, salt = group key, info = "paranoim/v1/group-mailbox-item" ‖ epoch (4))
 */
export interface EpochSecrets {
  epochKey: Uint8Array
  mailboxSeed: Uint8Array
}

export function drawEpochSecrets(random: (n: number) => Uint8Array): EpochSecrets {
  return { epochKey: random(32), mailboxSeed: random(32) }
}

function derive(backend: CryptoBackend, ikm: Uint8Array, group: Uint8Array, domain: string, epoch: number) {
  const label = new TextEncoder().encode(domain)
  const info = new Uint8Array(label.length + 4)
  info.set(label)
  new DataView(info.buffer).setUint32(label.length, epoch)
  return backend.hkdfSha256(ikm, group, info, 32)
}

/** The XChaCha20-Poly1305 key of the epoch's normal-mode messages. */
export function messageKey(
  backend: CryptoBackend,
  group: Uint8Array,
  epoch: number,
  epochKey: Uint8Array,
): Uint8Array {
  return derive(backend, epochKey, group, DOMAIN.groupMessageKey, epoch)
}

/** The identity whose mailbox holds the epoch's group messages for members who were offline. */
export function groupMailboxIdentity(
  backend: CryptoBackend,
  group: Uint8Array,
  epoch: number,
  mailboxSeed: Uint8Array,
): Identity {
  return identityFromSeed(derive(backend, mailboxSeed, group, DOMAIN.groupMailboxSeed, epoch), backend)
}

/** The key sealing what is deposited in the group mailbox, so its holders see opaque bytes only. */
export function groupMailboxItemKey(
  backend: CryptoBackend,
  group: Uint8Array,
  epoch: number,
  mailboxSeed: Uint8Array,
): Uint8Array {
  return derive(backend, mailboxSeed, group, DOMAIN.groupMailboxItem, epoch)
}

import type { CryptoBackend } from '../crypto/backend.js'
import { blindPublicKey, MAILBOX_BLINDING } from '../crypto/blind.js'
import { defaultBackend } from '../crypto/default-backend.js'
import { DOMAIN } from '../crypto/domains.js'
import { dhtNodeId, domainId } from '../dht/node-id.js'
import { periodAt } from '../dht/period.js'
import type { RelayDirectory, RelayEntry } from '../dht/relay-directory.js'

/**
 * Where a recipient's mailbox lives in a period (docs/protocol.md
 * "Mailboxes" → "Mailbox keys and holders"):
 *
 *   mailbox key = blinded public key of the address for the period, with the
 *                 mailbox blinding domains (unlinkable to its rendezvous key)
 *   mailbox id  = SHA-256(len ‖ "paranoim/v1/mailbox-id" ‖ mailbox key)[0..20]
 *   holders     = the k relays whose DHT node ids (SHA-256 of their node keys)
 *                 are closest to the mailbox id by XOR
 *
 * Both sides pick holders from their own relay directory, without any lookup
 * on the network: nobody learns that a mailbox is being looked for.
 */
export interface MailboxAddress {
  period: number
  key: Uint8Array
  id: Uint8Array
}

export function mailboxIdOf(mailboxKey: Uint8Array, backend: CryptoBackend = defaultBackend): Uint8Array {
  return domainId(DOMAIN.mailboxId, mailboxKey, backend)
}

export function mailboxAddress(
  address: Uint8Array,
  period: number,
  backend: CryptoBackend = defaultBackend,
): MailboxAddress {
  const key = blindPublicKey(address, period, backend, MAILBOX_BLINDING)
  return { period, key, id: mailboxIdOf(key, backend) }
}

/** -1, 0 or 1: which of two ids is closer to `target` by XOR. */
function compareDistance(target: Uint8Array, a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < target.length; i++) {
    const da = a[i]! ^ target[i]!
    const db = b[i]! ^ target[i]!
    if (da !== db) return da < db ? -1 : 1
  }
  return 0
}

/** A node as holder selection sees it: its directory id and its DHT node id. */
export interface PlacedNode {
  id: string
  dhtId: Uint8Array
  /** When our directory first listed it (ms); unknown counts as always. */
  since?: number
}

/** The `k` of `nodes` whose DHT ids are closest to `mailboxId` by XOR (closest first). */
export function closestTo<T extends PlacedNode>(mailboxId: Uint8Array, nodes: readonly T[], k: number): T[] {
  // k is small (holders + 2): keep the best k in order rather than sort them all.
  const best: T[] = []
  for (const node of nodes) {
    let at = best.length
    while (at > 0 && compareDistance(mailboxId, node.dhtId, best[at - 1]!.dhtId) < 0) at--
    if (at < k) {
      best.splice(at, 0, node)
      if (best.length > k) best.pop()
    }
  }
  return best
}

/** Every relay of the directory whose descriptor is still valid, with its DHT node id. */
export function placedRelays(
  directory: RelayDirectory,
  now: number,
  backend: CryptoBackend = defaultBackend,
): (PlacedNode & { entry: RelayEntry })[] {
  return directory
    .list()
    .filter((entry) => entry.descriptor.expiresAt > now)
    .map((entry) => ({
      id: entry.id,
      dhtId: dhtNodeId(entry.descriptor.nodeKey, backend),
      since: entry.firstSeen,
      entry,
    }))
}

/**
 * The `k` relays of the directory closest to `mailboxId` (closest first).
 * Only expiry filters them, not local reputation: the sender's and the
 * recipient's choices must agree as far as their directories do.
 */
export function mailboxHolders(
  directory: RelayDirectory,
  mailboxId: Uint8Array,
  k: number,
  now: number,
  backend: CryptoBackend = defaultBackend,
): RelayEntry[] {
  return closestTo(mailboxId, placedRelays(directory, now, backend), k).map(({ entry }) => entry)
}

/**
 * The periods whose mailboxes may still hold items: from the one `retentionMs`
 * ago up to the current one (newest first). A deposit's expiry can reach past
 * the end of its period by up to the retention.
 */
export function mailboxPeriods(now: number, periodMs: number, retentionMs: number): number[] {
  const current = periodAt(now, periodMs)
  const oldest = Math.max(0, periodAt(now - retentionMs, periodMs))
  return Array.from({ length: current - oldest + 1 }, (_, i) => current - i)
}

/**
 * The periods that may have received deposits since `since`: a depositor
 * uses its own clock's period, and a mailbox gets no deposits once its
 * period is over, so those from `since`'s period on, and one before it for
 * clock skew at a boundary (newest first). A sync that fetched everything
 * at `since` needs only these.
 */
export function mailboxPeriodsSince(
  now: number,
  since: number,
  periodMs: number,
  retentionMs: number,
): number[] {
  const first = periodAt(since, periodMs) - 1
  return mailboxPeriods(now, periodMs, retentionMs).filter((period) => period >= first)
}

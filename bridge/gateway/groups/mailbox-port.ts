import type { Identity } from '../../crypto/identity.js'

/**
 * What the group gateway needs of network mailboxes for the group mailbox
 * (docs/protocol.md "Group mailbox items"); bridge/onion/mailbox-client.ts is
 * the real one. There is no ack: an item one member fetched is still due to
 * the others, so it lives until the holders let it expire.
 */
export interface GroupMailboxPort {
  /** Leaves a 959-byte item in the mailbox of `mailbox` (the public key of the epoch's group mailbox identity). */
  deposit(mailbox: Uint8Array, item: Uint8Array): Promise<unknown>
  /**
   * The items the mailbox of `identity` holds, each once however many holders
   * keep it: every one, or with `since` (ms) at least those deposited since
   * then (the mailboxes of the periods since, not all fifteen).
   */
  fetch(identity: Identity, since?: number): Promise<readonly { item: Uint8Array }[]>
}

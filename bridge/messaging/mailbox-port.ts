import type { Identity } from '../crypto/identity.js'

/**
 * What the messenger needs of network mailboxes (docs/protocol.md
 * "Mailboxes"); bridge/onion/mailbox-client.ts is the real one.
 */
export interface MailboxPort {
  /** Leaves a sealed envelope in `recipient`'s mailbox; one outcome per holder asked. */
  deposit(recipient: Uint8Array, envelope: Uint8Array): Promise<readonly { status: string }[]>
  /** Everything waiting for `identity`, each item once however many holders keep it. */
  fetch(identity: Identity): Promise<readonly { id: Uint8Array; item: Uint8Array }[]>
  /** Lets the holders delete these items (ids from fetch). */
  ack(identity: Identity, ids: Uint8Array[]): Promise<unknown>
}

/** A holder's answer that counts as "kept it". */
export const HOLDER_OK = 'ok'

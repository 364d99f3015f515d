import type { MailboxConfig } from '../../config/sections/mailbox.js'
import type { Identity } from '../../crypto/identity.js'
import { mailboxPeriodsSince } from '../../onion/mailbox-address.js'
import type { MailboxClient } from '../../onion/mailbox-client.js'

/**
 * What the group gateway needs of network mailboxes for the group mailbox
 * (docs/protocol.md "Group mailbox items"); networkGroupMailbox() below is
 * the real one. There is no ack: an item one member fetched is still due to
 * the others, so it lives until the holders let it expire.
 */
export interface GroupMailboxPort {
  /** Leaves a 959-byte item in the mailbox of `mailbox` (the public key of the epoch's group mailbox identity). */
  deposit(mailbox: Uint8Array, item: Uint8Array): Promise<unknown>
  /**
   * The items the mailbox of `identity` holds, each once however many holders
   * keep it: every one (a full round), or with `since` (ms, a routine round)
   * at least those deposited since then.
   */
  fetch(identity: Identity, since?: number): Promise<readonly { item: Uint8Array }[]>
}

export interface NetworkGroupMailboxOptions {
  /** The network's mailbox client (a function: the network may start after the gateway). */
  client: () => Pick<MailboxClient, 'deposit' | 'fetch'>
  mailbox: MailboxConfig
  /** groups.routineSyncHolders. */
  routineHolders: number
  now: () => number
}

/**
 * The group mailbox on network mailboxes (docs/groups.md "Group mailbox sync
 * cost"). A full round asks every period's mailbox at all k + 2 holders; a
 * routine round only the periods since `since`, at the `routineHolders`
 * closest that answer. Both use FETCH cursors, so a holder sends only what it
 * stored since this member last asked it: a full round starts them over.
 */
export function networkGroupMailbox(options: NetworkGroupMailboxOptions): GroupMailboxPort {
  const { mailbox, routineHolders, now } = options
  return {
    deposit: (to, item) => options.client().deposit(to, item),
    fetch: (identity, since) =>
      options.client().fetch(
        identity,
        since === undefined
          ? { cursor: 'restart' }
          : {
              periods: mailboxPeriodsSince(now(), since, mailbox.periodMs, mailbox.retentionMs),
              holders: routineHolders,
              cursor: 'resume',
            },
      ),
  }
}

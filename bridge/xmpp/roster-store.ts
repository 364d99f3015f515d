import { z } from 'zod'
import { jsonCodec, type Store, type Table } from '../store/index.js'

const rosterItem = z.strictObject({
  /** The contact's bare JID. */
  jid: z.string(),
  /** The name the user set in a client (roster set). */
  name: z.string().optional(),
  /** The name a binding (petname) gives the contact, kept up to date by the bridge; shown when `name` is unset. */
  boundName: z.string().optional(),
  subscription: z.enum(['none', 'to', 'from', 'both']),
  /** We asked for the contact's presence and await the answer ("Pending Out", RFC 6121 §3.1.2). */
  askOut: z.boolean(),
  /** The contact asked for ours and the user has not answered ("Pending In"); the request stanza. */
  pendingIn: z.string().optional(),
  /** The user pre-approved a subscription request (RFC 6121 §3.4). */
  approved: z.boolean(),
  groups: z.array(z.string()),
  /** Only a pending request, not (yet) in the user's roster: not shown in roster results (RFC 6121 §3.1.3). */
  hidden: z.boolean(),
})

export type RosterItem = z.infer<typeof rosterItem>

export function emptyRosterItem(jid: string): RosterItem {
  return { jid, subscription: 'none', askOut: false, approved: false, groups: [], hidden: true }
}

/**
 * Rosters of local accounts: one record per (account, contact) keyed
 * "account/contact", and a version counter per account (XEP-0237).
 */
export class RosterStore {
  private readonly items: Table<RosterItem>
  private readonly versions: Table<number>

  constructor(private readonly store: Store) {
    this.items = store.table('xmpp-roster', jsonCodec(rosterItem))
    this.versions = store.table('xmpp-roster-version', jsonCodec(z.number().int().nonnegative()))
  }

  async list(account: string): Promise<RosterItem[]> {
    const out: RosterItem[] = []
    for await (const [, item] of this.items.entries({ prefix: `${account}/` })) out.push(item)
    return out
  }

  get(account: string, contact: string): Promise<RosterItem | undefined> {
    return this.items.get(`${account}/${contact}`)
  }

  count(account: string): Promise<number> {
    return this.items.count({ prefix: `${account}/` })
  }

  async version(account: string): Promise<number> {
    return (await this.versions.get(account)) ?? 0
  }

  /** Writes (or, with undefined, deletes) an item and bumps the roster version atomically; returns the new version. */
  async write(account: string, contact: string, item: RosterItem | undefined): Promise<number> {
    const version = (await this.version(account)) + 1
    const key = `${account}/${contact}`
    await this.store.batch([
      item ? this.items.putOp(key, item) : this.items.delOp(key),
      this.versions.putOp(account, version),
    ])
    return version
  }
}

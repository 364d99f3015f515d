import { z } from 'zod'
import { jsonCodec, type Store, type Table } from '../../store/index.js'

const hexKey = z.string().regex(/^[0-9a-f]{64}$/)
const pendingRecord = z.strictObject({
  /** The signer of the update that added the identity (a stranger to it). */
  inviter: hexKey,
  /** When the invitation arrived (ms). */
  at: z.number().int().nonnegative(),
})
type PendingRecord = z.infer<typeof pendingRecord>

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')
const fromHex = (text: string) => new Uint8Array(Buffer.from(text, 'hex'))

/** A pending invitation: `identity` was made a member of `group` by a stranger. */
export interface PendingInvitation {
  identity: Uint8Array
  group: Uint8Array
  inviter: Uint8Array
  at: number
}

/**
 * Group invitations from strangers that the local user has not taken up yet
 * (docs/gateway.md "Invitations from strangers"), as one-to-one messages
 * from strangers are held as requests: the group's state and key are kept,
 * but the bridge neither relays nor syncs the group until the user joins the
 * room. Bounded per identity (the oldest go first) and in time; table
 * `group-pending-invitations`, key `identity:group` (hex), mirrored in memory.
 */
export class PendingInvitations {
  private readonly table: Table<PendingRecord>
  private readonly held = new Map<string, PendingRecord>()

  constructor(
    store: Store,
    private readonly limits: { perIdentity: number; lifetimeMs: number },
  ) {
    this.table = store.table('group-pending-invitations', jsonCodec(pendingRecord))
  }

  async load(): Promise<void> {
    for await (const [key, record] of this.table.entries()) this.held.set(key, record)
  }

  isPending(identity: Uint8Array, group: Uint8Array): boolean {
    return this.held.has(key(identity, group))
  }

  /** The inviter of a held invitation (the signer of the update that added the identity). */
  inviterOf(identity: Uint8Array, group: Uint8Array): Uint8Array | undefined {
    const record = this.held.get(key(identity, group))
    return record && fromHex(record.inviter)
  }

  /**
   * Holds an invitation; resolves to the invitations of the same identity
   * that no longer fit (the oldest beyond `perIdentity`), already removed
   * here: the caller drops their groups.
   */
  async add(
    identity: Uint8Array,
    group: Uint8Array,
    inviter: Uint8Array,
    at: number,
  ): Promise<PendingInvitation[]> {
    const k = key(identity, group)
    if (this.held.has(k)) return []
    const record = { inviter: hex(inviter), at }
    await this.table.put(k, record)
    this.held.set(k, record)
    const mine = this.list().filter((p) => hex(p.identity) === hex(identity))
    const over = mine.sort((a, b) => a.at - b.at).slice(0, Math.max(0, mine.length - this.limits.perIdentity))
    for (const p of over) await this.remove(p.identity, p.group)
    return over
  }

  /** The invitation is taken up (joined) or dropped: it is pending no more. */
  async remove(identity: Uint8Array, group: Uint8Array): Promise<void> {
    const k = key(identity, group)
    if (!this.held.delete(k)) return
    await this.table.del(k)
  }

  /** Invitations older than the lifetime at `now`. */
  expired(now: number): PendingInvitation[] {
    return this.list().filter((p) => now - p.at >= this.limits.lifetimeMs)
  }

  list(): PendingInvitation[] {
    return [...this.held].map(([k, record]) => {
      const [identity = '', group = ''] = k.split(':')
      return {
        identity: fromHex(identity),
        group: fromHex(group),
        inviter: fromHex(record.inviter),
        at: record.at,
      }
    })
  }
}

function key(identity: Uint8Array, group: Uint8Array): string {
  return `${hex(identity)}:${hex(group)}`
}

import { hex } from '../tables.js'
import { onlineBitmap } from './fanout.js'

/**
 * Who of a group counts as online, for the bitmap of the next packet this
 * member sends (docs/group-fanout.md "Who is online"). A member is online
 * when heard from within `timeoutMs`: any authentic packet it originated or
 * forwarded, and any frame of it the pairwise messenger saw ('heard'
 * events). A member whose leave was seen is offline until heard again.
 * Members never heard count as online for the first `timeoutMs` after this
 * tracker starts, so a freshly started bridge builds a tree instead of
 * sending everything to the mailbox.
 */
export class GroupPresence {
  private readonly lastHeard = new Map<string, number>()
  private readonly startedAt: number

  constructor(
    private readonly timeoutMs: number,
    private readonly now: () => number,
  ) {
    this.startedAt = now()
  }

  heard(member: Uint8Array, at = this.now()): void {
    const key = hex(member)
    if (at > (this.lastHeard.get(key) ?? Number.NEGATIVE_INFINITY)) this.lastHeard.set(key, at)
  }

  /** Its leave (or an unreachable report of the messenger) was seen. */
  gone(member: Uint8Array): void {
    this.lastHeard.set(hex(member), Number.NEGATIVE_INFINITY)
  }

  isOnline(member: Uint8Array, at = this.now()): boolean {
    const last = this.lastHeard.get(hex(member)) ?? this.startedAt
    return at - last <= this.timeoutMs
  }

  /** The online bitmap over `members`; `self` (the sender) is left out, its bit is ignored anyway. */
  bitmap(members: readonly Uint8Array[], self: number, at = this.now()): Uint8Array {
    return onlineBitmap(members.length, (i) => i !== self && this.isOnline(members[i]!, at))
  }

  /** Forgets members no longer in the group (call after a state change), so the map stays group-sized. */
  retain(members: readonly Uint8Array[]): void {
    const keep = new Set(members.map(hex))
    for (const key of this.lastHeard.keys()) if (!keep.has(key)) this.lastHeard.delete(key)
  }
}

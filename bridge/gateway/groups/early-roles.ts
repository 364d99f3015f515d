import type { OpenedGroupMessage } from '../../messaging/groups/session.js'

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')
/** Role bodies waiting at once, across groups (beyond, the oldest goes). */
const MAX_WAITING = 1000

/**
 * Role bodies for an occupant not in the room here yet: its join is still on
 * its way from its own bridge while a moderator's bridge already told the
 * role (a newcomer is told the roles given before it came by the moderators,
 * and who is in by each occupant: two senders, no order between them). The
 * latest body per occupant waits groups.earlyRoleMs for the join, then it is
 * checked as if it came then. Memory only.
 */
export class EarlyRoles {
  private readonly waiting = new Map<string, { message: OpenedGroupMessage; at: number }>()

  constructor(
    private readonly waitMs: number,
    private readonly now: () => number,
  ) {}

  /** Keeps a role body (kind role) until its target's join comes. */
  hold(message: OpenedGroupMessage, target: Uint8Array): void {
    const key = `${hex(message.group)}:${hex(target)}`
    this.waiting.delete(key)
    this.waiting.set(key, { message, at: this.now() })
    if (this.waiting.size > MAX_WAITING) this.waiting.delete(this.waiting.keys().next().value!)
  }

  /** The role body waiting for `address` that just came in, if one still is. */
  take(group: Uint8Array, address: Uint8Array): OpenedGroupMessage | undefined {
    const key = `${hex(group)}:${hex(address)}`
    const early = this.waiting.get(key)
    this.waiting.delete(key)
    return early && this.now() - early.at <= this.waitMs ? early.message : undefined
  }
}

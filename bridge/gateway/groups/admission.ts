import type { GroupsConfig } from '../../config/sections/groups.js'
import type { GroupState } from '../../messaging/groups/state.js'
import { TokenBucket } from '../../net/rate-limiter.js'
import type { JoinRefusal } from '../../wire/group-control.js'

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')
const MINUTE = 60_000

/** What an owner's or admin's bridge does with a join request: admit, resend (already a member), or refuse why. */
export type AdmissionVerdict = { admit: 'new' } | { admit: 'member' } | { refuse: JoinRefusal }

/**
 * The rules of an open room's door (docs/groups.md "Open rooms"), in order:
 * only an owner or admin of the state held admits, never to a destroyed group; a banned requester is
 * refused; a member already in gets the chain again; a members-only room
 * refuses; a full one too (the group's own limit and the local
 * groups.maxMembers). The rate limit is the caller's (AdmissionLimits).
 */
export function admissionVerdict(
  state: GroupState | undefined,
  self: Uint8Array,
  requester: Uint8Array,
  maxMembers: number,
): AdmissionVerdict {
  const role = state?.members.get(hex(self))?.affiliation
  if (!state || state.destroyed || (role !== 'owner' && role !== 'admin')) return { refuse: 'not-admitting' }
  if (state.banned.has(hex(requester))) return { refuse: 'banned' }
  if (state.members.has(hex(requester))) return { admit: 'member' }
  if (state.config.membersOnly) return { refuse: 'members-only' }
  if (state.members.size >= Math.min(state.config.maxMembers, maxMembers)) return { refuse: 'full' }
  return { admit: 'new' }
}

/**
 * The two rates of the door: newcomers admitted per group and minute
 * (groups.joinsPerMinute), and refusals sent per minute in all
 * (groups.joinRefusalsPerMinute), so a flood of requests costs one answer
 * each up to a bound and nothing beyond. Buckets per group are kept only for
 * groups this bridge admits to (the caller checks that first).
 */
export class AdmissionLimits {
  private readonly groups = new Map<string, TokenBucket>()
  private readonly refusals: TokenBucket

  constructor(
    private readonly config: Pick<GroupsConfig, 'joinsPerMinute' | 'joinRefusalsPerMinute'>,
    private readonly now: () => number,
  ) {
    const perMinute = config.joinRefusalsPerMinute
    this.refusals = new TokenBucket((perMinute * 1000) / MINUTE, perMinute, now())
  }

  /** Takes one admission of `group`; false when its minute's worth is spent. */
  admit(group: Uint8Array): boolean {
    const key = hex(group)
    let bucket = this.groups.get(key)
    if (!bucket) {
      const perMinute = this.config.joinsPerMinute
      bucket = new TokenBucket((perMinute * 1000) / MINUTE, perMinute, this.now())
      this.groups.set(key, bucket)
    }
    return bucket.take(this.now())
  }

  /** Takes one refusal to send; false: drop the request unanswered. */
  refuse(): boolean {
    return this.refusals.take(this.now())
  }
}

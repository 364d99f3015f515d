import { z } from 'zod'

const SECOND = 1000
const MINUTE = 60 * SECOND
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR

/**
 * Group chats (docs/groups.md): the limits of the group protocol
 * (messaging/groups/). Times are milliseconds.
 */
export const groupsSection = z
  .strictObject({
    /** A group state with more members than this is refused (and none is made). */
    maxMembers: z.number().int().min(2).max(65_535).default(1000),
    /** Keys of this many epochs before the current one are kept, to read late messages. */
    keptEpochs: z.number().int().min(0).max(64).default(4),
    /** An old epoch's key is deleted this long after the next epoch's key arrived (forward secrecy). */
    epochKeyRetainMs: z
      .number()
      .int()
      .min(MINUTE)
      .default(3 * DAY),
    /** Message ids are remembered this long for dedupe; older messages (by timestamp) are refused. */
    dedupeWindowMs: z
      .number()
      .int()
      .min(HOUR)
      .default(30 * DAY),
    /** Message ids remembered per group at most; beyond, the oldest go and older messages are refused. */
    dedupePerGroup: z.number().int().min(100).max(10_000_000).default(100_000),
    /** A message stamped further than this in the future is refused (clock skew allowance). */
    maxFutureMs: z
      .number()
      .int()
      .min(SECOND)
      .default(10 * MINUTE),
    /** An opened message waits this long before it is shown, so messages that crossed come out in timestamp order. */
    orderHoldMs: z
      .number()
      .int()
      .min(0)
      .max(MINUTE)
      .default(2 * SECOND),
    /** Key packages held per group for a state not yet received. */
    pendingKeyPackages: z.number().int().min(1).max(1024).default(16),
  })
  .prefault({})

export type GroupsConfig = z.infer<typeof groupsSection>

import { z } from 'zod'

const SECOND = 1000
const MINUTE = 60 * SECOND
const HOUR = 60 * MINUTE
const DAY = 24 * HOUR
const KIB = 1024

/**
 * Group chats (docs/groups.md, docs/group-fanout.md): the limits of the group
 * protocol (state, epoch keys, dedupe), and how a group message spreads among
 * the members and what a member keeps to forward it once. Times are
 * milliseconds. The tree's shape is chosen by the sender and carried in the
 * packet, so the fan-out keys need not match between members: a member only
 * refuses to forward more copies than its own `maxOutDegree`.
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
    /**
     * An old epoch's keys stay this long after the next epoch's key arrived for
     * opening group mailbox items only (live messages of it are refused after
     * epochKeyRetainMs): the items' lifetime at the holders (mailbox.retentionMs).
     */
    mailboxKeyRetainMs: z
      .number()
      .int()
      .min(MINUTE)
      .default(14 * DAY),
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
    /** A room action of a member whose epoch key is still on its way (just invited, or a new epoch) waits this long for it. */
    keyWaitMs: z
      .number()
      .int()
      .min(0)
      .max(MINUTE)
      .default(10 * SECOND),
    // Open rooms (docs/groups.md "Open rooms"): joins by address, without an invitation

    /** An open room's rendezvous record names at most this many owners and admins to ask to be let in. */
    recordAdmitters: z.number().int().min(1).max(16).default(4),
    /** A local client's join of an open room this bridge does not hold waits this long for an answer. */
    joinWaitMs: z
      .number()
      .int()
      .min(SECOND)
      .max(5 * MINUTE)
      .default(30 * SECOND),
    /** Each admission address of the record has this long to answer before the next one is asked. */
    joinAttemptMs: z
      .number()
      .int()
      .min(100)
      .max(5 * MINUTE)
      .default(10 * SECOND),
    /** An owner's or admin's bridge admits at most this many newcomers per group and minute; more are refused (rate-limited). */
    joinsPerMinute: z.number().int().min(1).max(10_000).default(10),
    /** Join refusals sent per minute in all; beyond, join requests are dropped unanswered (a flood gets no echo). */
    joinRefusalsPerMinute: z.number().int().min(1).max(10_000).default(60),
    /** A group invitation from an address that is not a contact counts at once (false: held as pending until the user joins the room). */
    acceptStrangerInvitations: z.boolean().default(false),
    /** Pending (held) invitations from strangers per identity, at most: the oldest go first. */
    pendingInvitations: z.number().int().min(0).max(10_000).default(20),
    /** A pending invitation not taken up within this time is dropped with its group. */
    pendingInvitationMs: z
      .number()
      .int()
      .min(MINUTE)
      .default(7 * DAY),
    /** A local change may not switch a larger group to high mode, nor add members to a high-mode group beyond this (one sealed copy per member per message). */
    highModeMaxMembers: z.number().int().min(2).max(65_535).default(100),
    // Fan-out (messaging/groups/fanout*.ts)

    /** With at most this many other members online, the sender sends to each itself (no relaying). */
    directMax: z.number().int().min(1).max(65_535).default(20),
    /** Above that, each relaying member covers about this many members of the next layer (the tree's growth). */
    fanout: z.number().int().min(2).max(127).default(10),
    /** Copies one member forwards along the plan for one message, at most; the sender widens the tree up to (this − 1) / 2. */
    maxOutDegree: z.number().int().min(5).max(255).default(32),
    /** Largest fan-out packet sent or accepted (header, online bitmap, sealed group message, signature). */
    maxPacketBytes: z
      .number()
      .int()
      .min(1 * KIB)
      .max(1024 * KIB)
      .default(64 * KIB),
    /** (origin, message id) pairs remembered in memory to drop the second copy; the group session dedupes durably. */
    relayDedupeIds: z.number().int().min(100).max(1_000_000).default(10_000),
    /** Packets held while their state version is unknown (asked for); the oldest go first. */
    heldPackets: z.number().int().min(0).max(10_000).default(64),
    /** A packet older than this (origin's timestamp) is still shown but no longer forwarded: the mailbox has it. */
    forwardWindowMs: z
      .number()
      .int()
      .min(SECOND)
      .default(2 * MINUTE),
    /** An upstream member whose copy has not come this long after the first is stood in for by two of its children. */
    repairAfterMs: z
      .number()
      .int()
      .min(100)
      .default(5 * SECOND),
    /** Packets kept for a possible stand-in at once (each for repairAfterMs); more are forwarded without. */
    watchedPackets: z.number().int().min(0).max(100_000).default(256),
    /** A member heard from within this time counts as online in the sender's bitmap. */
    presenceTimeoutMs: z
      .number()
      .int()
      .min(SECOND)
      .default(15 * MINUTE),
    /** An online member fetches the group mailbox this often, to pick up what the tree missed. */
    syncIntervalMs: z
      .number()
      .int()
      .min(SECOND)
      .default(5 * MINUTE),
    /**
     * A routine sync (every syncIntervalMs) asks this many of a group mailbox's
     * k + 2 holders per period, the closest that answer; a full one (on return)
     * asks them all. Deposits reach k holders (docs/groups.md "Group mailbox sync cost").
     */
    routineSyncHolders: z.number().int().min(1).max(64).default(2),
    // Occupants across bridges (docs/gateway.md "Groups")

    /** An occupant's show/status change is published at most this often; changes in between merge into the last. */
    occupantPresenceIntervalMs: z
      .number()
      .int()
      .min(0)
      .max(HOUR)
      .default(5 * SECOND),
    /** A remote occupant the messenger reports unreachable, and not heard from this long after, is shown leaving. */
    staleOccupantMs: z
      .number()
      .int()
      .min(0)
      .max(DAY)
      .default(1 * MINUTE),
    /** A role body for an occupant whose join has not arrived yet waits this long for it (then it is dropped). */
    earlyRoleMs: z
      .number()
      .int()
      .min(0)
      .max(HOUR)
      .default(30 * SECOND),
  })
  .refine((groups) => groups.maxOutDegree >= 2 * groups.fanout + 1, {
    message:
      'maxOutDegree must be at least 2 × fanout + 1 (two parents per member, plus the first layer ring)',
  })
  .prefault({})

export type GroupsConfig = z.infer<typeof groupsSection>

import { createHmac, randomBytes } from 'node:crypto'
import type { Element } from 'ltx'
import { z } from 'zod'
import { XMPPError } from '../../errors.js'

export const affiliations = ['owner', 'admin', 'member', 'none', 'outcast'] as const
export type Affiliation = (typeof affiliations)[number]
export const roles = ['moderator', 'participant', 'visitor', 'none'] as const
export type Role = (typeof roles)[number]

export const roomConfigSchema = z.strictObject({
  name: z.string(),
  description: z.string(),
  persistent: z.boolean(),
  public: z.boolean(),
  membersOnly: z.boolean(),
  /** Who sees occupants' real JIDs (§4.2: semi-anonymous = moderators, non-anonymous = anyone). */
  whois: z.enum(['moderators', 'anyone']),
  /** Participants (not only moderators) may change the subject. */
  changeSubject: z.boolean(),
  allowInvites: z.boolean(),
  maxUsers: z.number().int().min(1),
  /** Most history messages sent on join (muc#maxhistoryfetch). */
  maxHistory: z.number().int().min(0),
  /** The group's security mode on the network (docs/groups.md): a shared epoch key, or sealed per member. */
  mode: z.enum(['normal', 'high']),
})
export type RoomConfig = z.infer<typeof roomConfigSchema>

export const storedRoomSchema = z.strictObject({
  config: roomConfigSchema,
  /** Bare JID → affiliation (only those other than 'none'). */
  affiliations: z.record(z.string(), z.enum(affiliations)),
  subject: z.strictObject({ text: z.string(), nick: z.string(), stamp: z.number() }).optional(),
  /** Secret of the room's XEP-0421 occupant ids. */
  salt: z.string(),
  /** Bare JID of the account that created it (rooms per account). */
  creator: z.string(),
})
export type StoredRoom = z.infer<typeof storedRoomSchema>

export interface Occupant {
  nick: string
  /** The real bare JID: `<account>@<domain>`, or `<address>@<domain>` for a remote occupant. */
  bare: string
  /** The local account; undefined for a remote occupant. */
  account: string | undefined
  /** Local: each joined session's full JID → its presence children. Remote: one entry, its address. */
  sessions: Map<string, Element[]>
  role: Role
}

export interface HistoryEntry {
  /** The message as broadcast (from the occupant JID, no `to`). */
  stanza: string
  stamp: number
}

const RANK: Record<Affiliation, number> = { owner: 4, admin: 3, member: 2, none: 1, outcast: 0 }

/** Compares affiliations: owner > admin > member > none > outcast. */
export const rank = (affiliation: Affiliation) => RANK[affiliation]

/** The role an affiliation gives on entering (§5.1.2; no moderated rooms: no visitors by default). */
export function defaultRole(affiliation: Affiliation): Role {
  return rank(affiliation) >= rank('admin') ? 'moderator' : 'participant'
}

/** One room: its configuration, affiliations, subject, history and who is in it now. */
export class Room {
  readonly occupants = new Map<string, Occupant>()
  history: HistoryEntry[] = []
  /** A new room stays locked until its owner configures it (§10.1.1). */
  locked = false

  constructor(
    /** The localpart of the room's JID. */
    readonly name: string,
    /** The room's bare JID. */
    readonly jid: string,
    public state: StoredRoom,
  ) {}

  /** A new room; `creator` (a local bare JID) becomes its owner; a room the network made has none here. */
  static create(name: string, jid: string, config: RoomConfig, creator: string | undefined): Room {
    return new Room(name, jid, {
      config,
      affiliations: creator ? { [creator]: 'owner' } : {},
      salt: randomBytes(16).toString('base64'),
      creator: creator ?? '',
    })
  }

  get config(): RoomConfig {
    return this.state.config
  }

  affiliation(bare: string): Affiliation {
    return Object.hasOwn(this.state.affiliations, bare) ? this.state.affiliations[bare]! : 'none'
  }

  setAffiliation(bare: string, affiliation: Affiliation): void {
    if (affiliation === 'none') delete this.state.affiliations[bare]
    else this.state.affiliations[bare] = affiliation
  }

  withAffiliation(affiliation: Affiliation): string[] {
    return Object.entries(this.state.affiliations)
      .filter(([, a]) => a === affiliation)
      .map(([bare]) => bare)
  }

  occupantOfSession(fullJid: string): Occupant | undefined {
    for (const occupant of this.occupants.values()) if (occupant.sessions.has(fullJid)) return occupant
    return undefined
  }

  occupantsOf(bare: string): Occupant[] {
    return [...this.occupants.values()].filter((o) => o.bare === bare)
  }

  /** XEP-0421: stable per real bare JID within the room, revealing nothing of it. */
  occupantId(bare: string): string {
    return createHmac('sha256', this.state.salt).update(bare).digest('base64')
  }

  /** May `viewer` see real JIDs (§7.2.3/§7.2.4)? */
  seesJids(viewer: Occupant): boolean {
    return this.config.whois === 'anyone' || viewer.role === 'moderator'
  }

  /** The entry checks of §7.2 for someone not yet in the room. */
  checkEntry(bare: string): void {
    const affiliation = this.affiliation(bare)
    if (affiliation === 'outcast') throw new XMPPError('forbidden', 'you are banned from this room')
    if (this.locked && affiliation !== 'owner')
      throw new XMPPError('item-not-found', 'this room is being configured (locked)')
    if (this.config.membersOnly && rank(affiliation) < rank('member'))
      throw new XMPPError('registration-required', 'this room is members-only')
  }

  /** Subject changes: moderators, or everyone with a voice when the room allows it. */
  maySetSubject(occupant: Occupant): boolean {
    return occupant.role === 'moderator' || (this.config.changeSubject && occupant.role === 'participant')
  }
}

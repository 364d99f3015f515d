import type { CryptoBackend } from '../../crypto/backend.js'
import type { Logger } from '../../log.js'
import { loadGroupSeed } from '../../messaging/groups/group-key.js'
import type { GroupState } from '../../messaging/groups/state.js'
import type { Store } from '../../store/index.js'
import { encodeGroupRendezvous } from '../../wire/group-rendezvous.js'
import type { GroupMember } from './member.js'
import type { GroupRecordPort } from './record-port.js'

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')

export interface RoomRecordsOptions {
  port: GroupRecordPort | undefined
  store: Store
  backend: CryptoBackend
  /** groups.recordAdmitters. */
  admitters: number
  log: Logger
}

/**
 * The rendezvous records of the open rooms this bridge owns (docs/groups.md
 * "Open rooms"). Only an owner holding the group's seed can sign under the
 * group's blinded key, so a room is findable while one owner's bridge
 * publishes. After every change of a state held here: published (the same
 * body is not published twice; the DHT's republishing keeps it alive, new
 * periods included) while the room is open and the local identity owns it
 * and keeps its seed; withdrawn once it is members-only or the identity is
 * no longer an owner — what is out then expires with its lifetime.
 */
export class RoomRecords {
  /** Group (hex) → the body published for it. */
  private readonly published = new Map<string, string>()
  /** Updates run one after the other, so an older state's body never lands after a newer one's. */
  private queue: Promise<void> = Promise.resolve()

  constructor(private readonly options: RoomRecordsOptions) {}

  update(member: GroupMember): Promise<void> {
    const run = this.queue.then(() => this.apply(member))
    this.queue = run.catch(() => {})
    return run
  }

  private async apply(member: GroupMember): Promise<void> {
    const { port, store, backend, log } = this.options
    if (!port) return
    const group = hex(member.group)
    const state = member.state
    const self = member.identity.publicKey
    const seed =
      state && isOpenAndOwned(state, self)
        ? await loadGroupSeed(store, backend, member.identity, member.group)
        : undefined
    if (!state || !seed) {
      if (this.published.delete(group)) {
        port.withdraw(member.group)
        log.info({ group }, 'open room record withdrawn')
      }
      return
    }
    const body = encodeGroupRendezvous({
      stateVersion: state.version,
      name: state.config.name,
      admitters: admittersOf(state, self, this.options.admitters),
    })
    try {
      if (this.published.get(group) === hex(body)) return
      this.published.set(group, hex(body))
      await port.publish(seed, body)
    } catch (err) {
      // Tried again at the next change (the DHT's own republishing covers a put that found no nodes).
      this.published.delete(group)
      throw err
    } finally {
      seed.seed.fill(0)
    }
  }
}

function isOpenAndOwned(state: GroupState, self: Uint8Array): boolean {
  return (
    !state.destroyed && !state.config.membersOnly && state.members.get(hex(self))?.affiliation === 'owner'
  )
}

/** The publisher first, then the other owners, then the admins (each by address), at most `max`. */
export function admittersOf(state: GroupState, self: Uint8Array, max: number): Uint8Array[] {
  const others = [...state.members.values()]
    .filter((m) => hex(m.address) !== hex(self) && (m.affiliation === 'owner' || m.affiliation === 'admin'))
    .sort(
      (a, b) =>
        Number(a.affiliation === 'admin') - Number(b.affiliation === 'admin') ||
        Buffer.compare(a.address, b.address),
    )
  return [self, ...others.map((m) => m.address)].slice(0, max)
}

import type { KnownOccupant } from './occupants.js'

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')

/** What the room is told when a remote occupant is shown leaving because its bridge went quiet. */
export const STALE_STATUS = 'bridge unreachable'

/**
 * Remote occupants whose bridge stopped answering (docs/gateway.md "Groups" →
 * "Stale occupants"). The messenger reports a member unreachable when nothing
 * sent to it was acknowledged for messaging.unreachableAfterMs; if it is still
 * not heard from `afterMs` later, `expire` shows it leaving and it is kept
 * here, to be shown again as it was when it is heard from once more.
 */
export class StaleOccupants {
  private readonly timers = new Map<string, NodeJS.Timeout>()
  private readonly gone = new Map<string, KnownOccupant>()

  constructor(
    private readonly afterMs: number,
    private readonly expire: (group: Uint8Array, address: Uint8Array) => void,
  ) {}

  /** The messenger gave up on `address`, an occupant of `group`: it is shown gone after `afterMs` unless heard. */
  suspect(group: Uint8Array, address: Uint8Array): void {
    const key = `${hex(group)}:${hex(address)}`
    if (this.timers.has(key) || this.gone.has(key)) return
    const timer = setTimeout(() => {
      this.timers.delete(key)
      this.expire(group, address)
    }, this.afterMs)
    this.timers.set(key, timer.unref())
  }

  /** It was shown leaving as `occupant`. */
  shownGone(group: Uint8Array, address: Uint8Array, occupant: KnownOccupant): void {
    this.gone.set(`${hex(group)}:${hex(address)}`, occupant)
  }

  /** Its bridge answers again: not to be shown gone; if it was, it stays so until a message of it (`heard`). */
  answered(group: Uint8Array, address: Uint8Array): void {
    const key = `${hex(group)}:${hex(address)}`
    clearTimeout(this.timers.get(key))
    this.timers.delete(key)
  }

  /** A group message of it was opened: the occupant to show back in, if it was shown gone. */
  heard(group: Uint8Array, address: Uint8Array): KnownOccupant | undefined {
    this.answered(group, address)
    const key = `${hex(group)}:${hex(address)}`
    const occupant = this.gone.get(key)
    this.gone.delete(key)
    return occupant
  }

  /** It joined or left by itself: nothing to show for it here any more. */
  forget(group: Uint8Array, address: Uint8Array): void {
    this.heard(group, address)
  }

  stop(): void {
    for (const timer of this.timers.values()) clearTimeout(timer)
    this.timers.clear()
    this.gone.clear()
  }
}

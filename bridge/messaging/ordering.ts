import type { DeliveryRecord } from './tables.js'

/**
 * Seqs given up on (delivered past after the hold timeout) that are still
 * remembered, so that they are shown if they arrive late. Beyond this many per
 * stream the oldest are forgotten: one arriving later is taken for a duplicate
 * (acknowledged, not shown). Only a sender that loses thousands of messages
 * for longer than the hold timeout gets there.
 */
export const MAX_SKIPPED = 1024

/**
 * The receiver's order of one stream: which seqs were delivered, which are
 * stored and waiting, and which may go next. Reliable messages are delivered in
 * seq order; one whose predecessor is missing waits `holdMs` from when it was
 * stored, then goes anyway, and the seqs it jumped over are "skipped": shown if
 * they still come, out of order.
 */
export class StreamOrder {
  floor: number
  private readonly skipped: Set<number>
  /** Stored (in the inbox, acknowledged) and not yet delivered: seq → when it was stored. */
  readonly stored = new Map<number, number>()

  constructor(record: DeliveryRecord = { floor: 0, skipped: [] }) {
    this.floor = record.floor
    this.skipped = new Set(record.skipped)
  }

  record(): DeliveryRecord {
    return { floor: this.floor, skipped: [...this.skipped] }
  }

  /** Delivered already, or stored for delivery: a repeat is a duplicate. */
  has(seq: number): boolean {
    return this.stored.has(seq) || (seq < this.floor && !this.skipped.has(seq))
  }

  /** The seq to deliver now, if any: late skipped ones first, then the lowest stored one when its turn came. */
  next(now: number, holdMs: number): number | undefined {
    for (const seq of this.stored.keys()) if (this.skipped.has(seq)) return seq
    const until = this.heldUntil(holdMs)
    return until !== undefined && until <= now ? this.lowest() : undefined
  }

  /** When the lowest stored message may go: at once when it is next in line, else after its hold. */
  heldUntil(holdMs: number): number | undefined {
    const lowest = this.lowest()
    if (lowest === undefined) return undefined
    return lowest === this.floor ? Number.NEGATIVE_INFINITY : this.stored.get(lowest)! + holdMs
  }

  private lowest(): number | undefined {
    let lowest: number | undefined
    for (const seq of this.stored.keys()) if (lowest === undefined || seq < lowest) lowest = seq
    return lowest
  }

  delivered(seq: number): void {
    this.stored.delete(seq)
    if (this.skipped.delete(seq) || seq < this.floor) return
    for (let s = Math.max(this.floor, seq - MAX_SKIPPED); s < seq; s++) this.skipped.add(s)
    this.floor = seq + 1
    for (const s of this.skipped) {
      if (this.skipped.size <= MAX_SKIPPED) break
      this.skipped.delete(s)
    }
  }
}

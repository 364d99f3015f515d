import { compareBytes } from '../../wire/group-state.js'
import type { OpenedGroupMessage } from './session.js'

export interface TimelineEntry {
  message: OpenedGroupMessage
  /** Older than a message already shown: the gateway marks it delayed (XEP-0203) instead of reordering. */
  late: boolean
}

/** (timestamp, sender, id): the order every member shows a group's messages in. */
export function compareGroupMessages(a: OpenedGroupMessage, b: OpenedGroupMessage): number {
  return a.timestamp - b.timestamp || compareBytes(a.sender, b.sender) || compareBytes(a.id, b.id)
}

/**
 * Presentation order of one group's messages: each opened message waits
 * `holdMs` after it arrived, so messages from different senders that cross
 * on the way come out in timestamp order. A message older than one already
 * released is not held back (it would wait forever) but comes out at once,
 * flagged late. Memory only: what is shown was already stored by the caller.
 */
export class GroupTimeline {
  private readonly held: { message: OpenedGroupMessage; due: number }[] = []
  private shown: OpenedGroupMessage | undefined

  constructor(
    private readonly holdMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  add(message: OpenedGroupMessage): void {
    const late = this.shown !== undefined && compareGroupMessages(message, this.shown) < 0
    this.held.push({ message, due: this.now() + (late ? 0 : this.holdMs) })
  }

  /** The messages due now, in order (late ones first, flagged). */
  release(): TimelineEntry[] {
    const now = this.now()
    const out: TimelineEntry[] = []
    this.held.sort((a, b) => compareGroupMessages(a.message, b.message))
    // A held message goes when its hold ended, or when a later one goes (order is kept).
    let last = -1
    for (let i = 0; i < this.held.length; i++) if (this.held[i]!.due <= now) last = i
    for (const { message } of this.held.splice(0, last + 1)) {
      const late = this.shown !== undefined && compareGroupMessages(message, this.shown) < 0
      if (!late) this.shown = message
      out.push({ message, late })
    }
    return out.sort((a, b) => Number(b.late) - Number(a.late))
  }

  /** When release() has something next (ms since the epoch), or undefined when nothing waits. */
  nextDue(): number | undefined {
    return this.held.length ? Math.min(...this.held.map((h) => h.due)) : undefined
  }

  get size(): number {
    return this.held.length
  }
}

import type { Element } from 'ltx'

/**
 * XEP-0198 outbound bookkeeping: every stanza sent while management is on
 * waits here, numbered, until the client acknowledges it with `<a h/>`.
 * Counters wrap at 2^32 (XEP-0198 §4).
 */
export class SmQueue {
  private readonly entries: { seq: number; stanza: Element }[] = []
  /** Stanzas handed to the client so far (mod 2^32). */
  private sent = 0

  get length(): number {
    return this.entries.length
  }

  push(stanza: Element): void {
    this.sent = (this.sent + 1) >>> 0
    this.entries.push({ seq: this.sent, stanza })
  }

  /** Drops what `h` acknowledges; returns false when `h` acknowledges stanzas never sent (a protocol error). */
  ack(h: number): boolean {
    const unacked = (this.sent - h) >>> 0
    if (unacked > this.entries.length) return false
    this.entries.splice(0, this.entries.length - unacked)
    return true
  }

  /** The stanzas still unacknowledged, oldest first. */
  pending(): Element[] {
    return this.entries.map((entry) => entry.stanza)
  }

  /** Removes and returns everything unacknowledged. */
  drain(): Element[] {
    return this.entries.splice(0).map((entry) => entry.stanza)
  }
}

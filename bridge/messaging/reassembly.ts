import type { DataFrame } from '../wire/frame.js'

/**
 * The chunks of one message received so far. Bounded: a message whose chunks
 * add up to more than `maxBytes` is refused (add returns false).
 */
export class Reassembly {
  private readonly chunks: (Uint8Array | undefined)[]
  private bytes = 0
  private received = 0

  constructor(
    private readonly first: DataFrame,
    private readonly maxBytes: number,
    /** When a chunk last arrived: the oldest partial message gives way first. */
    public touchedAt: number,
  ) {
    this.chunks = new Array(first.count).fill(undefined)
  }

  /** Whether a chunk belongs to this message (same id, timestamp and chunk count as the first). */
  matches(frame: DataFrame): boolean {
    const { first } = this
    return (
      frame.count === first.count &&
      frame.timestamp === first.timestamp &&
      frame.id.length === first.id.length &&
      frame.id.every((b, i) => b === first.id[i])
    )
  }

  add(index: number, body: Uint8Array): boolean {
    if (this.chunks[index]) return true
    if (this.bytes + body.length > this.maxBytes) return false
    this.chunks[index] = body
    this.bytes += body.length
    this.received++
    return true
  }

  get complete(): boolean {
    return this.received === this.chunks.length
  }

  /** The indices of the chunks received, for a progress acknowledgement. */
  indices(): number[] {
    return this.chunks.flatMap((chunk, i) => (chunk ? [i] : []))
  }

  body(): Uint8Array {
    const out = new Uint8Array(this.bytes)
    let offset = 0
    for (const chunk of this.chunks) {
      out.set(chunk!, offset)
      offset += chunk!.length
    }
    return out
  }
}

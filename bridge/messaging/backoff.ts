/**
 * Exponential back-off with jitter: `initialMs`, doubling up to `maxMs`; each
 * delay is shortened by up to a quarter at random, so many senders retrying
 * after the same outage do not stay in step.
 */
export class Backoff {
  private base: number
  private taken = 0

  constructor(
    private readonly initialMs: number,
    private readonly maxMs: number,
    /** A uniform number in [0, 1). */
    private readonly random: () => number,
  ) {
    this.base = initialMs
  }

  /** True once a second delay was taken without a reset: the first wait passed in vain. */
  get backedOff(): boolean {
    return this.taken > 1
  }

  /** The delay to wait now; the next one is twice as long. */
  next(): number {
    const delay = this.base * (1 - 0.25 * this.random())
    this.taken++
    this.base = Math.min(this.maxMs, this.base * 2)
    return Math.max(1, Math.round(delay))
  }

  /** The current delay without advancing. */
  peek(): number {
    return this.base
  }

  reset(): void {
    this.taken = 0
    this.base = this.initialMs
  }
}

/** A uniform [0, 1) number from 4 random bytes. */
export function uniform(random: (n: number) => Uint8Array): () => number {
  return () => {
    const b = random(4)
    return (((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0) / 2 ** 32
  }
}

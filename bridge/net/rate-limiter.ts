/**
 * Token buckets that cap how many handshake initiations a node processes:
 * each costs two X25519 operations, so without a cap a flood of well-formed
 * initiations would burn the CPU. One bucket for the whole node and one per
 * source address; the per-address table has a fixed size (oldest evicted).
 */
export class TokenBucket {
  #tokens: number
  #last: number

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    now: number,
  ) {
    this.#tokens = burst
    this.#last = now
  }

  take(now: number): boolean {
    const elapsed = Math.max(0, now - this.#last)
    this.#last = now
    this.#tokens = Math.min(this.burst, this.#tokens + (elapsed * this.ratePerSecond) / 1000)
    if (this.#tokens < 1) return false
    this.#tokens -= 1
    return true
  }
}

export interface HandshakeRateLimits {
  perSecond: number
  perHostPerSecond: number
  maxHosts: number
}

export class HandshakeRateLimiter {
  readonly #global: TokenBucket
  readonly #hosts = new Map<string, TokenBucket>()

  constructor(
    private readonly limits: HandshakeRateLimits,
    now: number,
  ) {
    // A burst of one second's worth: a node that restarts may be asked for many links at once.
    this.#global = new TokenBucket(limits.perSecond, limits.perSecond, now)
  }

  allow(host: string, now: number): boolean {
    let bucket = this.#hosts.get(host)
    if (!bucket) {
      if (this.#hosts.size >= this.limits.maxHosts) this.#hosts.delete(this.#hosts.keys().next().value!)
      bucket = new TokenBucket(this.limits.perHostPerSecond, this.limits.perHostPerSecond, now)
      this.#hosts.set(host, bucket)
    }
    return bucket.take(now) && this.#global.take(now)
  }
}

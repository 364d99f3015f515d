/** A token bucket: `rate` tokens per second, at most `burst` saved up. */
export class TokenBucket {
  private tokens: number
  private last: number

  constructor(
    private readonly rate: number,
    private readonly burst: number,
    private readonly now: () => number,
  ) {
    this.tokens = burst
    this.last = now()
  }

  take(): boolean {
    const now = this.now()
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.rate)
    this.last = now
    if (this.tokens < 1) return false
    this.tokens -= 1
    return true
  }
}

/** Failed logins per source address in a fixed one-minute window. */
export class AuthFailureLimiter {
  private readonly failures = new Map<string, { windowStart: number; count: number }>()

  constructor(
    private readonly perMinute: number,
    private readonly now: () => number,
  ) {}

  allowed(address: string): boolean {
    const entry = this.failures.get(address)
    if (!entry) return true
    if (this.now() - entry.windowStart >= 60_000) {
      this.failures.delete(address)
      return true
    }
    return entry.count < this.perMinute
  }

  failed(address: string): void {
    const now = this.now()
    const entry = this.failures.get(address)
    if (!entry || now - entry.windowStart >= 60_000)
      this.failures.set(address, { windowStart: now, count: 1 })
    else entry.count++
    if (this.failures.size > 10_000) this.prune(now)
  }

  private prune(now: number): void {
    for (const [address, entry] of this.failures) {
      if (now - entry.windowStart >= 60_000) this.failures.delete(address)
    }
  }
}

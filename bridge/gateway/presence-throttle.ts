import type { Clock } from './clock.js'

interface Cooling<T> {
  /** The latest value offered while cooling down: sent when the interval ends. */
  pending: T | undefined
}

/**
 * At most one send per key per `intervalMs`: the first goes at once, later
 * ones within the interval are merged into the latest, sent when it ends.
 */
export class Throttle<T> {
  private readonly cooling = new Map<string, Cooling<T>>()
  private readonly timers = new Set<unknown>()

  constructor(
    private readonly clock: Clock,
    private readonly intervalMs: number,
    private readonly send: (key: string, value: T) => void,
  ) {}

  offer(key: string, value: T): void {
    const entry = this.cooling.get(key)
    if (entry) {
      entry.pending = value
      return
    }
    this.send(key, value)
    if (this.intervalMs > 0) this.coolDown(key, { pending: undefined })
  }

  stop(): void {
    for (const timer of this.timers) this.clock.clearTimeout(timer)
    this.timers.clear()
    this.cooling.clear()
  }

  private coolDown(key: string, entry: Cooling<T>): void {
    this.cooling.set(key, entry)
    const timer = this.clock.setTimeout(() => {
      this.timers.delete(timer)
      const value = entry.pending
      if (value === undefined) {
        this.cooling.delete(key)
        return
      }
      this.send(key, value)
      entry.pending = undefined
      this.coolDown(key, entry)
    }, this.intervalMs)
    this.timers.add(timer)
  }
}

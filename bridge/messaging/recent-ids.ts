/** A set of the last `capacity` keys added; the oldest are forgotten first. */
export class RecentIds {
  private readonly keys = new Set<string>()

  constructor(private readonly capacity: number) {}

  has(key: string): boolean {
    return this.keys.has(key)
  }

  /** Adds `key`; false when it was already there. */
  add(key: string): boolean {
    if (this.keys.has(key)) return false
    this.keys.add(key)
    if (this.keys.size > this.capacity) this.keys.delete(this.keys.values().next().value!)
    return true
  }
}

/** Runs tasks one at a time per key, in call order; a failed task does not block the next. */
export class KeyedSerial {
  private readonly tails = new Map<string, Promise<unknown>>()

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const result = (this.tails.get(key) ?? Promise.resolve()).then(task)
    const tail = result.catch(() => undefined)
    this.tails.set(key, tail)
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key)
    })
    return result
  }

  /** Resolves when every task queued so far has finished. */
  async idle(): Promise<void> {
    await Promise.all(this.tails.values())
  }
}

/** Promises under way (store writes, deliveries) that a stop() lets finish. */
export class InFlight {
  private readonly pending = new Set<Promise<unknown>>()

  track<T>(promise: Promise<T>): Promise<T> {
    this.pending.add(promise)
    const untrack = () => this.pending.delete(promise)
    promise.then(untrack, untrack)
    return promise
  }

  async settled(): Promise<void> {
    await Promise.allSettled(this.pending)
  }
}

/** Runs at most `max` tasks at a time; the others wait in call order. */
export class Limit {
  private running = 0
  private readonly waiting: (() => void)[] = []

  constructor(private readonly max: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.max) await new Promise<void>((resolve) => this.waiting.push(resolve))
    this.running++
    try {
      return await task()
    } finally {
      this.running--
      this.waiting.shift()?.()
    }
  }
}

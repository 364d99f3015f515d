/** Thrown between start-up steps after Ctrl-C: the command stops and cleans up instead of going on. */
export class StopRequested extends Error {
  constructor(readonly signal: NodeJS.Signals) {
    super(`${signal} during start-up`)
  }
}

/**
 * SIGINT/SIGTERM watched from a command's first step, not only once it is
 * ready: Ctrl-C during a long start-up (the demo's tunnels) must still stop
 * what started and clean up (Node's default would kill the process on the spot).
 */
export class StopSignals {
  #signal: NodeJS.Signals | undefined
  readonly #waiters: (() => void)[] = []
  readonly #signals: NodeJS.Signals[]
  readonly #onSignal: (signal: NodeJS.Signals) => void

  constructor(onSignal: (signal: NodeJS.Signals) => void, signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM']) {
    this.#signals = signals
    this.#onSignal = (signal) => {
      if (this.#signal) return // a second Ctrl-C while stopping changes nothing
      this.#signal = signal
      onSignal(signal)
      for (const wake of this.#waiters.splice(0)) wake()
    }
    for (const s of signals) process.on(s, this.#onSignal)
  }

  /** Throws StopRequested once a signal came: called between start-up steps. */
  check(): void {
    if (this.#signal) throw new StopRequested(this.#signal)
  }

  /** Resolves with the first signal (at once if one came already), keeping the process alive meanwhile. */
  async next(): Promise<NodeJS.Signals> {
    if (!this.#signal) {
      const keepAlive = setInterval(() => {}, 2 ** 30)
      await new Promise<void>((resolve) => this.#waiters.push(resolve))
      clearInterval(keepAlive)
    }
    return this.#signal!
  }

  dispose(): void {
    for (const s of this.#signals) process.off(s, this.#onSignal)
  }
}

/** Waits for SIGINT or SIGTERM, keeping the process alive even when nothing else does. */
export async function nextSignal(): Promise<NodeJS.Signals> {
  const signals = new StopSignals(() => {})
  try {
    return await signals.next()
  } finally {
    signals.dispose()
  }
}

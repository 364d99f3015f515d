import { ParanoimError } from '../../errors.js'

/** The demo did not get ready in time (the network or the bot did not come up). */
export class DemoError extends ParanoimError {
  constructor(message: string) {
    super('CLI_DEMO', message)
  }
}

/** Thrown between start-up steps after Ctrl-C: the demo stops and cleans up instead of going on. */
export class DemoStopped extends Error {
  constructor(readonly signal: NodeJS.Signals) {
    super(`${signal} during start-up`)
  }
}

/**
 * SIGINT/SIGTERM watched from the demo's first step, not only once it is
 * ready: Ctrl-C while the tunnels come up must still stop the bridges and
 * delete the temp data dir (Node's default would kill the process on the spot).
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

  /** Throws DemoStopped once a signal came: called between start-up steps. */
  check(): void {
    if (this.#signal) throw new DemoStopped(this.#signal)
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

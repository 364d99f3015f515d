import type { Logger } from '../../bridge/log.js'
import type { KeyState } from '../shared/api-types.js'

/** Opens an identity's key with its password and brings it online (`bridge.unlock`). */
export type UnlockFn = (nickname: string, password: string) => Promise<void>

/**
 * The identities the web UI unlocked at login or creation. Opening the key
 * runs scrypt (about a second), so the login answers at once and this runs
 * behind it; the pages show its state. Identities stay unlocked until the
 * bridge stops (logging out of the page does not lock them: the Jabber
 * client may still be connected).
 */
export class Unlocks {
  readonly #states = new Map<string, { state: KeyState; done: Promise<void> }>()
  readonly #unlock: UnlockFn
  readonly #log: Logger

  constructor(unlock: UnlockFn, log: Logger) {
    this.#unlock = unlock
    this.#log = log
  }

  /** Starts unlocking, unless it runs or succeeded already; a failed one is tried again. */
  start(nickname: string, password: string): void {
    const known = this.#states.get(nickname)
    if (known && known.state !== 'failed') return
    const entry = { state: 'unlocking' as KeyState, done: Promise.resolve() }
    entry.done = Promise.resolve()
      .then(() => this.#unlock(nickname, password))
      .then(
        () => {
          entry.state = 'unlocked'
          this.#log.info({ nickname }, 'identity unlocked at web UI login')
        },
        (error: unknown) => {
          entry.state = 'failed'
          // The error's name and code only: nothing that could echo the password.
          const { name, code } = (error ?? {}) as { name?: string; code?: string }
          this.#log.error({ nickname, err: { name, code } }, 'identity not unlocked at web UI login')
        },
      )
    this.#states.set(nickname, entry)
  }

  state(nickname: string): KeyState {
    return this.#states.get(nickname)?.state ?? 'locked'
  }

  /**
   * Waits for an unlock in progress, so acting right after login does not
   * race it. A still locked identity is the gateway's to refuse (502
   * CONTACT_NOT_SENT, "log in again"): a Jabber login may have unlocked it.
   */
  async ready(nickname: string): Promise<void> {
    await this.#states.get(nickname)?.done
  }

  /** Resolves once no unlock runs any more (before the bridge stops). */
  async settled(): Promise<void> {
    await Promise.all([...this.#states.values()].map((entry) => entry.done))
  }
}

import { randomBytes, timingSafeEqual } from 'node:crypto'

export interface Session {
  readonly id: string
  readonly csrfToken: string
  /** The logged-in identity, or null for a visitor who only holds a CSRF token. */
  readonly nickname: string | null
  lastSeen: number
}

export interface SessionStoreInit {
  idleMs: number
  maxSessions: number
  clock?: () => number
  random?: (n: number) => Uint8Array
}

/**
 * In-memory sessions (a restart logs everyone out, which is fine for a local
 * UI). A Map keeps insertion order, so re-inserting on use makes it an LRU:
 * when full, the least recently used session goes.
 */
export class SessionStore {
  readonly #sessions = new Map<string, Session>()
  readonly #idleMs: number
  readonly #max: number
  readonly #clock: () => number
  readonly #random: (n: number) => Uint8Array

  constructor(init: SessionStoreInit) {
    this.#idleMs = init.idleMs
    this.#max = init.maxSessions
    this.#clock = init.clock ?? Date.now
    this.#random = init.random ?? randomBytes
  }

  get(id: string | undefined): Session | undefined {
    if (!id) return undefined
    const session = this.#sessions.get(id)
    if (!session) return undefined
    this.#sessions.delete(id)
    const now = this.#clock()
    if (now - session.lastSeen > this.#idleMs) return undefined
    session.lastSeen = now
    this.#sessions.set(id, session)
    return session
  }

  /** Whether a session still exists and is not idle, without counting this as use (live streams ask this). */
  isLive(id: string): boolean {
    const session = this.#sessions.get(id)
    return session !== undefined && this.#clock() - session.lastSeen <= this.#idleMs
  }

  /** A fresh id and CSRF token every time, so a login never reuses a visitor's id (fixation). */
  create(nickname: string | null): Session {
    while (this.#sessions.size >= this.#max) {
      const oldest = this.#sessions.keys().next().value as string
      this.#sessions.delete(oldest)
    }
    const session = { id: this.#token(), csrfToken: this.#token(), nickname, lastSeen: this.#clock() }
    this.#sessions.set(session.id, session)
    return session
  }

  destroy(id: string): void {
    this.#sessions.delete(id)
  }

  #token(): string {
    return Buffer.from(this.#random(32)).toString('base64url')
  }
}

export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

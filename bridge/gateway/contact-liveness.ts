import type { Clock } from './clock.js'

/**
 * Contacts currently shown available to a local account, and when each was
 * last heard from (presence, heartbeat or any authentic message), so one that
 * fell silent can be shown offline.
 */
export class ContactLiveness {
  /** "account/contact" → last heard (ms); only contacts shown available. */
  private readonly shown = new Map<string, number>()

  constructor(private readonly clock: Clock) {}

  showAvailable(account: string, contact: string): void {
    this.shown.set(key(account, contact), this.clock.now())
  }

  heard(account: string, contact: string): void {
    const k = key(account, contact)
    if (this.shown.has(k)) this.shown.set(k, this.clock.now())
  }

  /** Forgets a contact shown available; true if it was (the caller then shows it offline). */
  hide(account: string, contact: string): boolean {
    return this.shown.delete(key(account, contact))
  }

  /** Hides and returns the contacts not heard from for `silentMs`. */
  expire(silentMs: number): Array<{ account: string; contact: string }> {
    const out: Array<{ account: string; contact: string }> = []
    const now = this.clock.now()
    for (const [k, heard] of this.shown) {
      if (now - heard < silentMs) continue
      this.shown.delete(k)
      const slash = k.lastIndexOf('/')
      out.push({ account: k.slice(0, slash), contact: k.slice(slash + 1) })
    }
    return out
  }
}

const key = (account: string, contact: string) => `${account}/${contact}`

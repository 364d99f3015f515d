import type { JID } from './jid.js'
import type { ClientSession } from './session.js'

/** Bound sessions by account and resource. */
export class SessionRegistry {
  private readonly byAccount = new Map<string, Map<string, ClientSession>>()

  add(session: ClientSession): void {
    let resources = this.byAccount.get(session.account)
    if (!resources) {
      resources = new Map()
      this.byAccount.set(session.account, resources)
    }
    resources.set(session.resource, session)
  }

  remove(session: ClientSession): void {
    const resources = this.byAccount.get(session.account)
    if (resources?.get(session.resource) !== session) return
    resources.delete(session.resource)
    if (resources.size === 0) this.byAccount.delete(session.account)
  }

  ofAccount(account: string): ClientSession[] {
    return [...(this.byAccount.get(account)?.values() ?? [])]
  }

  get(account: string, resource: string): ClientSession | undefined {
    return this.byAccount.get(account)?.get(resource)
  }

  byJid(jid: JID): ClientSession | undefined {
    return this.get(jid.local, jid.resource)
  }

  /** Available sessions with the highest non-negative priority (RFC 6121 §8.5.2.1.1). */
  messageTargets(account: string): ClientSession[] {
    const candidates = this.ofAccount(account).filter((s) => s.available && s.priority >= 0)
    const top = Math.max(...candidates.map((s) => s.priority))
    return candidates.filter((s) => s.priority === top)
  }

  *all(): IterableIterator<ClientSession> {
    for (const resources of this.byAccount.values()) yield* resources.values()
  }
}

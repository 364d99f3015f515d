import type { PresenceContent } from './allow-list.js'

interface ResourcePresence {
  content: PresenceContent
  priority: number
  /** Order of arrival, to prefer the latest among equal priorities. */
  seq: number
}

/**
 * The presence an account shows on the network. Resources do not cross (a
 * contact sees `<address>@domain`), so the account's resources are merged:
 * the available one with the highest priority (the latest on a tie), or
 * unavailable when none is. Fed by the presence copies the XMPP core routes
 * to contacts; directed presence counts too (the gateway cannot tell it apart).
 */
export class AccountPresence {
  private readonly accounts = new Map<string, Map<string, ResourcePresence>>()
  private seq = 0

  update(account: string, resource: string, content: PresenceContent, priority: number): void {
    let resources = this.accounts.get(account)
    if (content.type !== 'available') {
      resources?.delete(resource)
      if (resources?.size === 0) this.accounts.delete(account)
      return
    }
    if (!resources) {
      resources = new Map()
      this.accounts.set(account, resources)
    }
    resources.set(resource, { content, priority, seq: this.seq++ })
  }

  current(account: string): PresenceContent {
    let best: ResourcePresence | undefined
    for (const r of this.accounts.get(account)?.values() ?? []) {
      if (!best || r.priority > best.priority || (r.priority === best.priority && r.seq > best.seq)) best = r
    }
    return best?.content ?? { type: 'unavailable' }
  }

  /** Accounts with at least one available resource (the heartbeat's senders). */
  available(): string[] {
    return [...this.accounts.keys()]
  }
}

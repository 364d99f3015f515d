import type { Hook, HookMap, HookResult } from './module.js'

interface Registered<E> {
  handler: Hook<E>
  priority: number
}

/** Prosody-style hook chains: higher priority first; 'handled' stops the chain. Errors propagate to the caller. */
export class Hooks {
  private readonly chains = new Map<keyof HookMap, Registered<never>[]>()

  add<K extends keyof HookMap>(name: K, handler: Hook<HookMap[K]>, priority = 0): void {
    const chain = (this.chains.get(name) ?? []) as Registered<HookMap[K]>[]
    chain.push({ handler, priority })
    chain.sort((a, b) => b.priority - a.priority)
    this.chains.set(name, chain as Registered<never>[])
  }

  async run<K extends keyof HookMap>(name: K, event: HookMap[K]): Promise<HookResult> {
    const chain = (this.chains.get(name) ?? []) as Registered<HookMap[K]>[]
    for (const { handler } of chain) {
      if ((await handler(event)) === 'handled') return 'handled'
    }
    return undefined
  }

  has(name: keyof HookMap): boolean {
    return (this.chains.get(name)?.length ?? 0) > 0
  }
}

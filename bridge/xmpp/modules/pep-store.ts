import { z } from 'zod'
import type { ModuleContext } from '../module.js'

/** Who may read a node's items and get its events (XEP-0060 §4.5); PEP's default is presence (XEP-0163 §4). */
export const accessModels = ['presence', 'open', 'whitelist'] as const
export type AccessModel = (typeof accessModels)[number]

const nodeConfig = z.strictObject({
  access: z.enum(accessModels),
  maxItems: z.number().int().min(1),
})
export type NodeConfig = z.infer<typeof nodeConfig>

const storedItem = z.strictObject({
  /** The payload element, as published. */
  xml: z.string(),
  /** Publication order across the account's nodes: the newest item is the last published (XEP-0060 §6.1.7). */
  seq: z.number().int(),
})

export interface PepItem {
  id: string
  xml: string
  seq: number
}

/** NUL cannot occur in XML, so it separates key parts that may contain anything else (node names hold '/'). */
const SEP = '\u0000'

/**
 * XEP-0223 persistent storage of PEP nodes: each node's configuration and its
 * items, keyed by account, node and item id, in the bridge's store.
 */
export function pepStore(ctx: ModuleContext) {
  const nodes = ctx.table('nodes', nodeConfig)
  const items = ctx.table('items', storedItem)
  let seq = ctx.now()

  const nodeKey = (account: string, node: string) => `${account}${SEP}${node}`

  async function list(account: string, node: string): Promise<PepItem[]> {
    const out: PepItem[] = []
    const prefix = `${nodeKey(account, node)}${SEP}`
    for await (const [key, item] of items.entries({ prefix }))
      out.push({ id: key.slice(prefix.length), ...item })
    return out.sort((a, b) => a.seq - b.seq)
  }

  return {
    config: (account: string, node: string) => nodes.get(nodeKey(account, node)),

    async nodes(account: string): Promise<string[]> {
      const names: string[] = []
      for await (const key of nodes.keys({ prefix: `${account}${SEP}` }))
        names.push(key.slice(account.length + 1))
      return names
    },

    countNodes: (account: string) => nodes.count({ prefix: `${account}${SEP}` }),

    configure: (account: string, node: string, config: NodeConfig) =>
      nodes.put(nodeKey(account, node), config),

    /** Items in publication order, oldest first. */
    items: list,

    /** Stores an item (replacing one with the same id) and drops the oldest beyond the node's maxItems. */
    async publish(account: string, node: string, id: string, xml: string, maxItems: number): Promise<void> {
      seq = Math.max(seq + 1, ctx.now())
      await items.put(`${nodeKey(account, node)}${SEP}${id}`, { xml, seq })
      const all = await list(account, node)
      for (const old of all.slice(0, Math.max(0, all.length - maxItems)))
        await items.del(`${nodeKey(account, node)}${SEP}${old.id}`)
    },

    /** Removes an item; false when there was none. */
    async retract(account: string, node: string, id: string): Promise<boolean> {
      const key = `${nodeKey(account, node)}${SEP}${id}`
      if (!(await items.has(key))) return false
      await items.del(key)
      return true
    },

    async deleteNode(account: string, node: string): Promise<void> {
      for (const item of await list(account, node))
        await items.del(`${nodeKey(account, node)}${SEP}${item.id}`)
      await nodes.del(nodeKey(account, node))
    },
  }
}

export type PepStore = ReturnType<typeof pepStore>

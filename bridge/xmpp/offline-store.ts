import { z } from 'zod'
import { jsonCodec, type Store, sortableNumber, type Table } from '../store/index.js'

const offlineMessage = z.strictObject({
  /** The stanza as serialised XML. */
  stanza: z.string(),
  /** When the server received it (ms), for the XEP-0203 delay stamp. */
  stamp: z.number(),
})

export type OfflineMessage = z.infer<typeof offlineMessage>

/** Messages for local accounts with no available resource (RFC 6121 §8.5.2.2.1), in arrival order. */
export class OfflineStore {
  private readonly table: Table<OfflineMessage>
  private seq = 0

  constructor(store: Store) {
    this.table = store.table('xmpp-offline', jsonCodec(offlineMessage))
  }

  count(account: string): Promise<number> {
    return this.table.count({ prefix: `${account}/` })
  }

  /** Keys sort by time then a per-process counter, so order survives restarts; the key is taken synchronously. */
  async add(account: string, message: OfflineMessage): Promise<void> {
    this.seq = (this.seq + 1) % 1_000_000
    const key = `${account}/${sortableNumber(message.stamp, 15)}-${sortableNumber(this.seq, 6)}`
    await this.table.put(key, message)
  }

  /** Every stored message of an account with its key, oldest first. */
  async list(account: string): Promise<[string, OfflineMessage][]> {
    const out: [string, OfflineMessage][] = []
    for await (const entry of this.table.entries({ prefix: `${account}/` })) out.push(entry)
    return out
  }

  /** Removes one message once it is handed to a session (which keeps it until acknowledged, XEP-0198). */
  remove(key: string): Promise<void> {
    return this.table.del(key)
  }
}

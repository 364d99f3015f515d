import { z } from 'zod'
import { KeyedSerial } from '../messaging/serial.js'
import { bytesSchema, jsonCodec, type Store, sortableNumber, type Table } from '../store/index.js'

const heldMessage = z.strictObject({
  /** The sender's address (lowercase, as in its JID). */
  from: z.string(),
  /** The sender's timestamp (ms). */
  timestamp: z.number(),
  /** The message's payload (bridge/wire/stanza-payload.ts), decoded again when shown. */
  payload: bytesSchema,
})
export type HeldMessage = z.infer<typeof heldMessage>

const accountHead = z.strictObject({
  next: z.number().int().nonnegative(),
  count: z.number().int().nonnegative(),
})
const seqKey = (seq: number) => sortableNumber(seq, 15)

/**
 * Messages from strangers, kept per account until the user accepts the sender
 * (then they are shown) — a bounded table: beyond `perAccount` the oldest go.
 */
export class HeldRequests {
  private readonly messages: Table<HeldMessage>
  private readonly heads: Table<z.infer<typeof accountHead>>
  private readonly serial = new KeyedSerial()

  constructor(
    private readonly store: Store,
    private readonly perAccount: number,
  ) {
    this.messages = store.table('gateway-held', jsonCodec(heldMessage))
    this.heads = store.table('gateway-held-head', jsonCodec(accountHead))
  }

  add(account: string, message: HeldMessage): Promise<void> {
    return this.serial.run(account, async () => {
      if (this.perAccount === 0) return
      const head = await this.head(account)
      const ops = [this.messages.putOp(`${account}/${seqKey(head.next)}`, message)]
      const over = head.count + 1 - this.perAccount
      if (over > 0)
        for await (const key of this.messages.keys({ prefix: `${account}/`, limit: over }))
          ops.push(this.messages.delOp(key))
      ops.push(this.heads.putOp(account, { next: head.next + 1, count: head.count + 1 - Math.max(0, over) }))
      await this.store.batch(ops)
    })
  }

  async list(account: string): Promise<HeldMessage[]> {
    const out: HeldMessage[] = []
    for await (const [, message] of this.messages.entries({ prefix: `${account}/` })) out.push(message)
    return out
  }

  /**
   * Hands `from`'s held messages to `show` oldest first, deleting each once
   * shown; a failure leaves it (and the rest) held for the next release.
   */
  release(account: string, from: string, show: (message: HeldMessage) => Promise<void>): Promise<void> {
    return this.serial.run(account, async () => {
      for await (const [key, message] of this.messages.entries({ prefix: `${account}/` })) {
        if (message.from !== from) continue
        await show(message)
        const head = await this.head(account)
        await this.store.batch([
          this.messages.delOp(key),
          this.heads.putOp(account, { ...head, count: Math.max(0, head.count - 1) }),
        ])
      }
    })
  }

  private async head(account: string) {
    return (await this.heads.get(account)) ?? { next: 0, count: 0 }
  }
}

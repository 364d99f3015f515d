import { z } from 'zod'
import { KeyedSerial } from '../messaging/serial.js'
import { type BatchOp, jsonCodec, type Store, sortableNumber, type Table } from '../store/index.js'
import { NETWORK_ID_LENGTH } from '../wire/stanza-payload.js'

/** Longer client ids are not remembered (no client sends them; they would only bloat the keys). */
export const MAX_CLIENT_ID_CHARS = 256

const pairHead = z.strictObject({
  next: z.number().int().nonnegative(),
  count: z.number().int().nonnegative(),
})
const logEntry = z.strictObject({ client: z.string(), network: z.string() })

const toHex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')
const seqKey = (seq: number) => sortableNumber(seq, 15)

/**
 * Client id ↔ network id of the messages an account sent a contact, so that
 * receipts, markers and corrections name the right message on each side: our
 * client sees its own ids, the peer sees only network ids. Bounded per
 * (account, contact) pair: the oldest mapping goes first. A pair's head record
 * also tells that the account has written to the contact (not a stranger).
 */
export class IdMap {
  private readonly heads: Table<z.infer<typeof pairHead>>
  private readonly log: Table<z.infer<typeof logEntry>>
  private readonly byClient: Table<string>
  private readonly byNetwork: Table<string>
  private readonly serial = new KeyedSerial()

  constructor(
    private readonly store: Store,
    private readonly perContact: number,
  ) {
    this.heads = store.table('gateway-id-pairs', jsonCodec(pairHead))
    this.log = store.table('gateway-id-log', jsonCodec(logEntry))
    this.byClient = store.table('gateway-id-client', jsonCodec(z.string()))
    this.byNetwork = store.table('gateway-id-network', jsonCodec(z.string()))
  }

  /**
   * Records that `account` sent `contact` the message `network`, which its
   * client calls `clientId`. The records are handed to `write`, which commits
   * them (with the message itself: the gateway passes the outbox write).
   */
  remember(
    account: string,
    contact: string,
    clientId: string | undefined,
    network: Uint8Array,
    write: (ops: BatchOp[]) => Promise<void> = (ops) => this.store.batch(ops),
  ): Promise<void> {
    const pair = `${account}/${contact}`
    return this.serial.run(pair, async () => {
      const head = (await this.heads.get(pair)) ?? { next: 0, count: 0 }
      if (clientId === undefined || clientId.length > MAX_CLIENT_ID_CHARS)
        return write(head.next === 0 ? [this.heads.putOp(pair, head)] : [])
      const hex = toHex(network)
      const full = head.count >= this.perContact
      // The deletions go first in the batch, so a client id reused by the new entry keeps its index.
      const ops: BatchOp[] = full ? await this.forgetOldest(pair, head.next - head.count) : []
      ops.push(
        this.log.putOp(`${pair}/${seqKey(head.next)}`, { client: clientId, network: hex }),
        this.byClient.putOp(`${pair}/${clientId}`, hex),
        this.byNetwork.putOp(`${pair}/${hex}`, clientId),
        this.heads.putOp(pair, { next: head.next + 1, count: full ? head.count : head.count + 1 }),
      )
      await write(ops)
    })
  }

  /** Deletes the oldest entry, and its indexes unless a newer entry took them over (a reused client id). */
  private async forgetOldest(pair: string, seq: number): Promise<BatchOp[]> {
    const key = `${pair}/${seqKey(seq)}`
    const entry = await this.log.get(key)
    if (!entry) return []
    const ops = [this.log.delOp(key)]
    if ((await this.byClient.get(`${pair}/${entry.client}`)) === entry.network)
      ops.push(this.byClient.delOp(`${pair}/${entry.client}`))
    if ((await this.byNetwork.get(`${pair}/${entry.network}`)) === entry.client)
      ops.push(this.byNetwork.delOp(`${pair}/${entry.network}`))
    return ops
  }

  async networkIdOf(account: string, contact: string, clientId: string): Promise<Uint8Array | undefined> {
    if (clientId.length > MAX_CLIENT_ID_CHARS) return undefined
    const hex = await this.byClient.get(`${account}/${contact}/${clientId}`)
    return hex === undefined ? undefined : new Uint8Array(Buffer.from(hex, 'hex'))
  }

  clientIdOf(account: string, contact: string, network: Uint8Array): Promise<string | undefined> {
    return this.byNetwork.get(`${account}/${contact}/${toHex(network)}`)
  }

  /** Whether `account` ever sent `contact` a message through this bridge. */
  hasWritten(account: string, contact: string): Promise<boolean> {
    return this.heads.has(`${account}/${contact}`)
  }
}

/**
 * How a received message's network id is shown to the receiving client, and
 * read back when the client refers to it (receipts, markers): lowercase hex.
 */
export function renderNetworkId(network: Uint8Array): string {
  return toHex(network)
}

export function parseRenderedId(id: string): Uint8Array | undefined {
  if (!/^[0-9a-f]+$/.test(id) || id.length !== 2 * NETWORK_ID_LENGTH) return undefined
  return new Uint8Array(Buffer.from(id, 'hex'))
}

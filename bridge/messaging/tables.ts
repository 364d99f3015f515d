import { z } from 'zod'
import { bytesSchema, jsonCodec, type Store, sortableNumber, type Table } from '../store/index.js'

/**
 * The Messenger's LevelDB tables. Keys are lowercase hex joined by ':' (local
 * address first) so one identity's records share a prefix; sequence numbers are
 * zero-padded so keys sort in sequence order.
 */
const count = z.number().int().nonnegative()

/** Per (local sender, contact): the stream we send on. Written with every outbox entry. */
const streamSchema = z.strictObject({ stream: bytesSchema, nextSeq: count, lastTimestamp: count })
export type StreamRecord = z.infer<typeof streamSchema>

/** A message as stored for sending (outbox) or for delivery (inbox). */
const messageSchema = z.strictObject({ id: bytesSchema, timestamp: count, body: bytesSchema })
export type MessageRecord = z.infer<typeof messageSchema>

/** Per (local receiver, contact, stream): what was delivered. Every seq < floor was, except the skipped ones. */
const deliverySchema = z.strictObject({ floor: count, skipped: z.array(count) })
export type DeliveryRecord = z.infer<typeof deliverySchema>

/**
 * Per outbox entry left in recipients' mailboxes: when it was last deposited,
 * how many holders took it (the fewest over its chunks) and how many deposits
 * in a row reached too few, so a restart re-deposits only what is due.
 */
const depositSchema = z.strictObject({ at: count, ok: count, misses: count })
export type DepositRecord = z.infer<typeof depositSchema>

export interface MessagingTables {
  /** key `from:to` */
  streams: Table<StreamRecord>
  /** key `from:to:seq` */
  outbox: Table<MessageRecord>
  /** key `to:from:stream:seq` — stored, acknowledged, not yet handed to deliver() */
  inbox: Table<MessageRecord>
  /** key `to:from:stream` */
  delivery: Table<DeliveryRecord>
  /** key `from:to:seq`, as the outbox entry's */
  deposits: Table<DepositRecord>
}

export function messagingTables(store: Store): MessagingTables {
  return {
    streams: store.table('msg-streams', jsonCodec(streamSchema)),
    outbox: store.table('msg-outbox', jsonCodec(messageSchema)),
    inbox: store.table('msg-inbox', jsonCodec(messageSchema)),
    delivery: store.table('msg-delivery', jsonCodec(deliverySchema)),
    deposits: store.table('msg-deposits', jsonCodec(depositSchema)),
  }
}

export const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex')
export const unhex = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'hex'))
export const seqKey = (seq: number): string => sortableNumber(seq, 10)
export const joinKey = (...parts: string[]): string => parts.join(':')

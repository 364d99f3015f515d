import type { Logger } from '../log.js'
import type { Clock } from '../net/udp-node.js'
import {
  decodeRecordValue,
  encodeRecordValue,
  RecordFormatError,
  type RecordKind,
  type RecordValue,
} from '../wire/record.js'
import type { DhtConfig, DhtNode } from './dht-node.js'
import { RecordError, type RecordRefusal } from './errors.js'
import { checkRecordTimes, type RefusalCounts } from './item-verifier.js'

/** The key a record is signed with: a node or identity key, or a per-period blinded key. */
export interface RecordSigner {
  publicKey: Uint8Array
  sign(message: Uint8Array): Uint8Array
}

export interface PublishInput {
  signer: RecordSigner
  salt?: Uint8Array
  kind: RecordKind
  body: Uint8Array
  /** Default: dht.recordTtlMs. */
  ttlMs?: number
}

export interface PublishedRecord {
  publicKey: Uint8Array
  seq: number
  expiresAt: number
  /** How many DHT nodes accepted the put. */
  storedOn: number
}

export interface FetchedRecord extends RecordValue {
  seq: number
}

export interface Records {
  /** Signs (fresh seq, fresh expiry) and stores one record now. Throws RecordFormatError for a body too large. */
  publish(input: PublishInput): Promise<PublishedRecord>
  /**
   * The record under (publicKey, salt): null when no node holds a valid one;
   * throws RecordError (and counts it) when what came back is refused.
   */
  fetch(publicKey: Uint8Array, salt?: Uint8Array, kind?: RecordKind): Promise<FetchedRecord | null>
  /** Republish `publishNow` every dht.republishIntervalMs until disowned or stopped (bittorrent-dht never republishes). */
  own(name: string, publishNow: () => Promise<unknown>): void
  disown(name: string): void
  /** Runs every owned publisher once, now; resolves when all finished (failures are logged). */
  republishAll(): Promise<void>
  start(): void
  stop(): void
}

export interface RecordsOptions {
  dht: DhtNode
  config: DhtConfig
  clock: Clock
  refusals: RefusalCounts
  log: Logger
}

/** Highest seq known per key: bounded, oldest forgotten first. */
const MAX_TRACKED_KEYS = 10_000

const keyOf = (publicKey: Uint8Array, salt?: Uint8Array): string =>
  Buffer.from(publicKey).toString('hex') + (salt?.length ? `/${Buffer.from(salt).toString('hex')}` : '')

/**
 * Signed mutable records (BEP 44) with our rules on top of bittorrent-dht:
 * the signed expiry inside the value, refusal of stale/expired/oversized or
 * malformed values on both put and get, monotonic seq, and republishing.
 */
export function createRecords(options: RecordsOptions): Records {
  const { dht, config, clock, refusals } = options
  const log = options.log.child({ c: 'records' })
  const limits = { clockSkewMs: config.clockSkewMs, maxRecordTtlMs: config.maxRecordTtlMs }
  const highestSeq = new Map<string, number>()
  const owned = new Map<string, () => Promise<unknown>>()
  let timer: NodeJS.Timeout | undefined

  function remember(key: string, seq: number): void {
    highestSeq.delete(key)
    highestSeq.set(key, seq)
    if (highestSeq.size > MAX_TRACKED_KEYS) highestSeq.delete(highestSeq.keys().next().value!)
  }

  function refuse(code: RecordRefusal, message: string, cause?: unknown): never {
    refusals[code]++
    throw new RecordError(code, message, { cause })
  }

  async function publish(input: PublishInput): Promise<PublishedRecord> {
    const now = clock.now()
    const expiresAt = now + (input.ttlMs ?? config.recordTtlMs)
    const value = encodeRecordValue({ kind: input.kind, expiresAt, body: input.body })
    const key = keyOf(input.signer.publicKey, input.salt)
    // Seconds since the epoch keep seq rising across restarts; +1 covers two puts in one second.
    const seq = Math.max((highestSeq.get(key) ?? -1) + 1, Math.floor(now / 1000))
    remember(key, seq)
    const storedOn = await dht.putMutable({
      publicKey: input.signer.publicKey,
      ...(input.salt ? { salt: input.salt } : {}),
      seq,
      value,
      sign: input.signer.sign,
    })
    return { publicKey: input.signer.publicKey, seq, expiresAt, storedOn }
  }

  async function fetch(
    publicKey: Uint8Array,
    salt?: Uint8Array,
    kind?: RecordKind,
  ): Promise<FetchedRecord | null> {
    const item = await dht.getMutable(publicKey, salt)
    if (!item) return null
    let record: RecordValue
    try {
      record = decodeRecordValue(item.value)
    } catch (error) {
      const tooLarge = error instanceof RecordFormatError && error.code === 'RECORD_TOO_LARGE'
      refuse(tooLarge ? 'RECORD_TOO_LARGE' : 'RECORD_MALFORMED', (error as Error).message, error)
    }
    try {
      checkRecordTimes(record, clock.now(), limits)
    } catch (error) {
      refuse((error as RecordError).code, (error as Error).message, error)
    }
    if (kind !== undefined && record.kind !== kind)
      refuse('RECORD_UNEXPECTED', `record kind ${record.kind}, wanted ${kind}`)
    const key = keyOf(publicKey, salt)
    const known = highestSeq.get(key)
    if (known !== undefined && item.seq < known)
      refuse('RECORD_STALE', `seq ${item.seq} is older than ${known}`)
    remember(key, item.seq)
    return { ...record, seq: item.seq }
  }

  async function republishAll(): Promise<void> {
    for (const [name, publishNow] of owned) {
      try {
        await publishNow()
      } catch (error) {
        log.warn({ err: error, record: name }, 'republish failed')
      }
    }
  }

  return {
    publish,
    fetch,
    own(name, publishNow) {
      owned.set(name, publishNow)
    },
    disown(name) {
      owned.delete(name)
    },
    republishAll,
    start() {
      timer ??= setInterval(() => void republishAll(), config.republishIntervalMs)
      timer.unref()
    },
    stop() {
      clearInterval(timer)
      timer = undefined
    },
  }
}

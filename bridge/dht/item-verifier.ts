import type { VerifyFunction } from 'bittorrent-dht'
import type { CryptoBackend } from '../crypto/backend.js'
import type { Clock } from '../net/udp-node.js'
import { decodeBep44Signable } from '../wire/bep44.js'
import {
  decodeRecordValue,
  isRecordValue,
  MAX_RECORD_VALUE_LENGTH,
  type RecordValue,
} from '../wire/record.js'
import { RecordError, type RecordRefusal } from './errors.js'

export interface RecordLimits {
  clockSkewMs: number
  maxRecordTtlMs: number
}

/** How many items were refused, by reason: kept per node, shown in status and checked by tests. */
export type RefusalCounts = Record<RecordRefusal, number>

export const emptyRefusals = (): RefusalCounts => ({
  RECORD_SIGNATURE: 0,
  RECORD_MALFORMED: 0,
  RECORD_TOO_LARGE: 0,
  RECORD_EXPIRED: 0,
  RECORD_TOO_FAR: 0,
  RECORD_STALE: 0,
  RECORD_UNEXPECTED: 0,
})

/** Throws RecordError when a decoded record's signed expiry is past or implausibly far. */
export function checkRecordTimes(record: RecordValue, now: number, limits: RecordLimits): void {
  if (record.expiresAt + limits.clockSkewMs < now) {
    throw new RecordError('RECORD_EXPIRED', `record expired at ${new Date(record.expiresAt).toISOString()}`)
  }
  if (record.expiresAt > now + limits.maxRecordTtlMs + limits.clockSkewMs) {
    throw new RecordError(
      'RECORD_TOO_FAR',
      `record expiry ${new Date(record.expiresAt).toISOString()} is too far ahead`,
    )
  }
}

/**
 * Why an item must be refused, or null to accept it. Ed25519 first (bittorrent-dht's
 * contract); then, for values that are ParanoIM records, our own rules: a
 * record that parses, under 1000 bytes, not expired and not valid implausibly
 * long. Other people's items (the DHT may be the mainline one) pass on their
 * signature alone.
 */
export function judgeItem(
  signature: unknown,
  message: unknown,
  publicKey: unknown,
  context: { backend: CryptoBackend; now: number; limits: RecordLimits },
): RecordRefusal | null {
  if (
    !(signature instanceof Uint8Array) ||
    !(message instanceof Uint8Array) ||
    !(publicKey instanceof Uint8Array)
  ) {
    return 'RECORD_MALFORMED'
  }
  if (!context.backend.ed25519Verify(publicKey, message, signature)) return 'RECORD_SIGNATURE'
  let v: Uint8Array | null
  try {
    v = decodeBep44Signable(message).v
  } catch {
    return 'RECORD_MALFORMED'
  }
  if (v === null || !isRecordValue(v)) return null
  if (v.length > MAX_RECORD_VALUE_LENGTH) return 'RECORD_TOO_LARGE'
  try {
    checkRecordTimes(decodeRecordValue(v), context.now, context.limits)
    return null
  } catch (error) {
    return error instanceof RecordError ? error.code : 'RECORD_MALFORMED'
  }
}

/** The `verify` hook for bittorrent-dht: judgeItem with the node's clock, counting every refusal. */
export function createItemVerifier(options: {
  backend: CryptoBackend
  clock: Clock
  limits: RecordLimits
  refusals: RefusalCounts
}): VerifyFunction {
  return (signature, message, publicKey) => {
    const context = { backend: options.backend, now: options.clock.now(), limits: options.limits }
    const refusal = judgeItem(signature, message, publicKey, context)
    if (refusal) options.refusals[refusal]++
    return refusal === null
  }
}

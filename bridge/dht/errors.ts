import { ParanoimError } from '../errors.js'

export type DhtErrorCode =
  /** An operation on a node that is not started (or already stopped). */
  | 'DHT_NOT_STARTED'
  /** Joining the network did not finish in time. */
  | 'DHT_BOOTSTRAP_TIMEOUT'
  /** No node stored the item (all queries failed or were refused). */
  | 'DHT_PUT_FAILED'
  | 'DHT_GET_FAILED'
  | 'DHT_ANNOUNCE_FAILED'
  /** bittorrent-dht refused the arguments (it throws synchronously). */
  | 'DHT_BAD_ARGUMENT'

/** Failures of the DHT itself: joining, storing, looking up. */
export class DhtError extends ParanoimError {
  declare readonly code: DhtErrorCode

  constructor(code: DhtErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options)
  }
}

export type RecordRefusal =
  /** The BEP 44 signature does not verify under the record key. */
  | 'RECORD_SIGNATURE'
  /** The signable bytes or the value do not parse (wire/bep44.ts, wire/record.ts). */
  | 'RECORD_MALFORMED'
  /** v of 1000 bytes or more. */
  | 'RECORD_TOO_LARGE'
  /** Its signed expiry (plus the tolerated clock skew) has passed. */
  | 'RECORD_EXPIRED'
  /** Its expiry lies further ahead than dht.maxRecordTtlMs: nobody honest publishes that. */
  | 'RECORD_TOO_FAR'
  /** A lower seq than one already seen for the same key: a replay of an older version. */
  | 'RECORD_STALE'
  /** Not the kind of record asked for, or a blinded body that does not decrypt under the address's key. */
  | 'RECORD_UNEXPECTED'

/** A record we refuse to publish or to accept. */
export class RecordError extends ParanoimError {
  declare readonly code: RecordRefusal

  constructor(code: RecordRefusal, message: string, options?: { cause?: unknown }) {
    super(code, message, options)
  }
}

export type DescriptorRefusal =
  | 'DESCRIPTOR_FETCH'
  | 'DESCRIPTOR_INVALID'
  | 'DESCRIPTOR_EXPIRED'
  | 'DESCRIPTOR_ENDPOINT_MISMATCH'
  /** The KRPC id our routing table holds for that endpoint is not the node key's DHT id. */
  | 'DESCRIPTOR_NODE_ID_MISMATCH'
  /** The static key the NX exchange authenticated is not the descriptor's node key. */
  | 'DESCRIPTOR_KEY_MISMATCH'
  | 'DESCRIPTOR_NOT_RELAY'
  /** No encrypted link could be made to the node key at that endpoint. */
  | 'DESCRIPTOR_LINK_FAILED'

/** A relay candidate whose descriptor could not be fetched or was refused. */
export class RelayDescriptorError extends ParanoimError {
  declare readonly code: DescriptorRefusal

  constructor(code: DescriptorRefusal, message: string, options?: { cause?: unknown }) {
    super(code, message, options)
  }
}

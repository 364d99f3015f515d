import type { Identity } from '../crypto/identity.js'
import type { BlindedRecords } from '../dht/blinded-records.js'
import { decodeRendezvous, encodeRendezvous, type RendezvousRecord } from '../wire/rendezvous.js'

/**
 * Rendezvous records through the DHT's blinded records: published under the
 * identity's blinded key of each period, body encrypted with a key derived
 * from the address (dht/blinded-records.ts), kept republished until replaced.
 */
export function publishRendezvous(
  blinded: BlindedRecords,
  identity: Identity,
  record: RendezvousRecord,
): Promise<unknown> {
  return blinded.own(identity, encodeRendezvous(record))
}

/** The identity's current record, or null; throws on a record that does not decode (RecordError, OnionWireError). */
export async function fetchRendezvous(
  blinded: BlindedRecords,
  address: Uint8Array,
): Promise<RendezvousRecord | null> {
  const plaintext = await blinded.fetch(address)
  return plaintext ? decodeRendezvous(plaintext) : null
}

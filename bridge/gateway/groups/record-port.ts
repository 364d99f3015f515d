import type { GroupKeyPair } from '../../messaging/groups/group-key.js'

/**
 * What the group gateway needs of the DHT for open rooms' rendezvous records
 * (docs/protocol.md "Open rooms"); bridge/dht/blinded-records.ts is the real
 * one: the record key is the group key blinded per period, the body sealed
 * with a key derived from the group address.
 */
export interface GroupRecordPort {
  /** Publishes `plaintext` under the group key now and keeps republishing it (each period) until withdrawn or replaced. */
  publish(group: GroupKeyPair, plaintext: Uint8Array): Promise<unknown>
  /** Stops republishing (what is out expires with its lifetime, dht.recordTtlMs). */
  withdraw(group: Uint8Array): void
  /** The newest plaintext published for the group address, or null; throws on a record the DHT holds but that is refused. */
  fetch(group: Uint8Array): Promise<Uint8Array | null>
}

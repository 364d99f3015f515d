/**
 * Typings for k-bucket 5.1 (node_modules/k-bucket/index.js): a Kademlia routing
 * table as a binary tree of buckets. Only what the code base uses is declared,
 * exactly as the library behaves.
 */
declare module 'k-bucket' {
  import { EventEmitter } from 'node:events'

  export interface KBucketContact {
    id: Uint8Array
    /** Used by the default arbiter: the contact with the larger clock wins. */
    vectorClock?: number
  }

  /** A tree node: a leaf holds `contacts`; an inner node has `contacts === null` and two branches. */
  export interface KBucketTreeNode<T extends KBucketContact> {
    contacts: T[] | null
    dontSplit: boolean
    left: KBucketTreeNode<T> | null
    right: KBucketTreeNode<T> | null
  }

  export interface KBucketOptions<T extends KBucketContact> {
    /** Defaults to 20 random bytes. */
    localNodeId?: Uint8Array
    /** k; default 20. */
    numberOfNodesPerKBucket?: number
    /** How many old contacts the `ping` event offers when a full bucket cannot split; default 3. */
    numberOfNodesToPing?: number
    distance?: (a: Uint8Array, b: Uint8Array) => number
    arbiter?: (incumbent: T, candidate: T) => T
    metadata?: Record<string, unknown>
  }

  export default class KBucket<T extends KBucketContact = KBucketContact> extends EventEmitter {
    constructor(options?: KBucketOptions<T>)
    static distance(a: Uint8Array, b: Uint8Array): number
    static arbiter<C extends KBucketContact>(incumbent: C, candidate: C): C
    localNodeId: Uint8Array
    numberOfNodesPerKBucket: number
    numberOfNodesToPing: number
    /** Free-form data owned by the user of the table (bittorrent-dht keeps `lastChange` here). */
    metadata: Record<string, unknown>
    root: KBucketTreeNode<T>
    /** Throws TypeError when `contact.id` is not a Uint8Array. */
    add(contact: T): this
    /** Sorted by XOR distance to `id`, at most `n` (default: all). Throws TypeError when n ≤ 0. */
    closest(id: Uint8Array, n?: number): T[]
    count(): number
    get(id: Uint8Array): T | null
    remove(id: Uint8Array): this
    toArray(): T[]
    toIterable(): Iterable<T>

    on(event: 'added' | 'removed', listener: (contact: T) => void): this
    on(event: 'updated', listener: (incumbent: T, selection: T) => void): this
    /** A full, unsplittable bucket: ping `older`; if one is dead, remove it and add `newer`. */
    on(event: 'ping', listener: (older: T[], newer: T) => void): this
  }
}

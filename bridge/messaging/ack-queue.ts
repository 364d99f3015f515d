import type { Identity } from '../crypto/identity.js'
import {
  ACK_HEADER_BYTES,
  type AckEntry,
  type AckFrame,
  ackEntryBytes,
  encodeFrame,
  MAX_ACK_ENTRIES,
} from '../wire/frame.js'
import { hex, joinKey } from './tables.js'

/** Packs entries of one stream into as few ACK frames of at most `maxBytes` as it takes. */
export function packAcks(stream: Uint8Array, entries: readonly AckEntry[], maxBytes: number): AckFrame[] {
  const frames: AckFrame[] = []
  let current: AckEntry[] = []
  let size = ACK_HEADER_BYTES
  for (const entry of entries) {
    const bytes = ackEntryBytes(entry)
    if (current.length > 0 && (size + bytes > maxBytes || current.length === MAX_ACK_ENTRIES)) {
      frames.push({ type: 'ack', stream, entries: current })
      current = []
      size = ACK_HEADER_BYTES
    }
    current.push(entry)
    size += bytes
  }
  if (current.length > 0) frames.push({ type: 'ack', stream, entries: current })
  return frames
}

interface Pending {
  local: Identity
  remote: Uint8Array
  /** stream hex → the stream and its entries by seq (a later word on a seq replaces the earlier). */
  streams: Map<string, { stream: Uint8Array; entries: Map<number, AckEntry> }>
}

/**
 * Acknowledgements waiting to go, gathered until the current burst of frames
 * is processed (one setImmediate), so one ACK frame answers many chunks.
 */
export class AckQueue {
  private readonly pending = new Map<string, Pending>()
  private timer: NodeJS.Immediate | undefined

  constructor(
    private readonly maxFrameBytes: number,
    /** Seals and sends one frame; failures are the sender's to retry, so they are only logged. */
    private readonly send: (local: Identity, remote: Uint8Array, frame: Uint8Array) => Promise<void>,
  ) {}

  add(local: Identity, remote: Uint8Array, stream: Uint8Array, entry: AckEntry): void {
    const key = joinKey(hex(local.publicKey), hex(remote))
    let pair = this.pending.get(key)
    if (!pair) {
      pair = { local, remote, streams: new Map() }
      this.pending.set(key, pair)
    }
    const streamKey = hex(stream)
    let forStream = pair.streams.get(streamKey)
    if (!forStream) {
      forStream = { stream, entries: new Map() }
      pair.streams.set(streamKey, forStream)
    }
    forStream.entries.set(entry.seq, entry)
    this.timer ??= setImmediate(() => this.flush())
  }

  stop(): void {
    if (this.timer) clearImmediate(this.timer)
    this.timer = undefined
    this.pending.clear()
  }

  private flush(): void {
    this.timer = undefined
    const pairs = [...this.pending.values()]
    this.pending.clear()
    for (const { local, remote, streams } of pairs) {
      for (const { stream, entries } of streams.values()) {
        for (const frame of packAcks(stream, [...entries.values()], this.maxFrameBytes)) {
          void this.send(local, remote, encodeFrame(frame))
        }
      }
    }
  }
}

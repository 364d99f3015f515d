/** Why a cell was dropped (every drop is counted under exactly one reason). */
export type OnionDropReason =
  /** Not a well-formed cell or relay message. */
  | 'malformed'
  /** No circuit under that link and id (never existed, or already destroyed). */
  | 'unknownCircuit'
  /** A sequence number the hop's window has already seen, or one too old. */
  | 'replayed'
  /** The end-to-end AEAD failed: modified on the way (the circuit is destroyed). */
  | 'tampered'
  /** A command that makes no sense in the circuit's state. */
  | 'protocol'
  /** A relay limit (circuits, registrations) was reached. */
  | 'limit'

export interface OnionCounters {
  cellsIn: number
  cellsOut: number
  /** RELAY cells passed on to the next or previous hop. */
  cellsForwarded: number
  dropped: Record<OnionDropReason, number>
  relayCircuitsCreated: number
  relayCircuitsDestroyed: number
  introductions: number
}

export function newOnionCounters(): OnionCounters {
  return {
    cellsIn: 0,
    cellsOut: 0,
    cellsForwarded: 0,
    dropped: { malformed: 0, unknownCircuit: 0, replayed: 0, tampered: 0, protocol: 0, limit: 0 },
    relayCircuitsCreated: 0,
    relayCircuitsDestroyed: 0,
    introductions: 0,
  }
}

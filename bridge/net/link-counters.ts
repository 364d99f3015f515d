/** Every overlay datagram the manager saw ends in exactly one of `received` or `dropped`. */
export interface LinkCounters {
  received: {
    initiations: number
    duplicateInitiations: number
    responses: number
    transport: number
    descriptorRequests: number
    descriptorResponses: number
  }
  dropped: {
    /** Fails its format (length, first byte, ids, padding, message type). */
    malformed: number
    /** Names a link id we do not have. */
    unknownLink: number
    /** Arrives where a handshake or descriptor response was expected, with another size. */
    unexpected: number
    /** Its counter was seen before or is older than the replay window; or a confirmed initiation sent again. */
    replayed: number
    /** Does not authenticate (tampered, forged, wrong key, low-order public key, bad resumption tag). */
    authFailed: number
    /** Under a session older than rejectAfterMs. */
    expired: number
    /** Initiations or descriptor requests over the handshake rate or pending-handshake limit. */
    rateLimited: number
    /** Initiations when maxLinks are established. */
    linkLimit: number
    /** Descriptor requests to a node that serves no descriptor (not a relay). */
    notServing: number
  }
  handshakes: {
    initiated: number
    completed: number
    accepted: number
    retransmitted: number
    timedOut: number
  }
  /** Our own descriptor requests (their answers count in received.descriptorResponses). */
  descriptors: { requested: number; retransmitted: number; timedOut: number }
}

export type DropReason = keyof LinkCounters['dropped']

export function newLinkCounters(): LinkCounters {
  return {
    received: {
      initiations: 0,
      duplicateInitiations: 0,
      responses: 0,
      transport: 0,
      descriptorRequests: 0,
      descriptorResponses: 0,
    },
    dropped: {
      malformed: 0,
      unknownLink: 0,
      unexpected: 0,
      replayed: 0,
      authFailed: 0,
      expired: 0,
      rateLimited: 0,
      linkLimit: 0,
      notServing: 0,
    },
    handshakes: { initiated: 0, completed: 0, accepted: 0, retransmitted: 0, timedOut: 0 },
    descriptors: { requested: 0, retransmitted: 0, timedOut: 0 },
  }
}

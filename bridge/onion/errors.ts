import { ParanoimError } from '../errors.js'

export type OnionErrorCode =
  /** The hop's handshake proof does not match its node key. */
  | 'HANDSHAKE_AUTH'
  /** No CREATED/EXTENDED (or other awaited reply) in time. */
  | 'TIMEOUT'
  /** The circuit was destroyed (by a hop, a tampered cell, a link going down, expiry). */
  | 'CIRCUIT_CLOSED'
  /** A configured limit (circuits, registrations) is reached. */
  | 'LIMIT'
  /** The relay directory cannot supply the path asked for. */
  | 'NO_PATH'
  /** The intro point does not know the auth key, or refused the introduction. */
  | 'INTRODUCE_FAILED'
  /** The DHT holds no live rendezvous record for the address: it is offline (or never was online). */
  | 'NO_RECORD'
  /** A payload larger than one relay message. */
  | 'TOO_LARGE'
  /** A mailbox holder answered a request with a refusal (its status is in the message). */
  | 'MAILBOX_REFUSED'

/** A circuit or introduction could not be built, used or completed. */
export class OnionError extends ParanoimError {
  declare readonly code: OnionErrorCode

  constructor(code: OnionErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options)
  }
}

/** Building a circuit failed at `failedHop` (index in the path): that relay did not answer or did not prove its key. */
export class CircuitBuildError extends OnionError {
  readonly failedHop: number

  constructor(failedHop: number, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause)
    super(
      cause instanceof OnionError ? cause.code : 'TIMEOUT',
      `circuit build failed at hop ${failedHop}: ${reason}`,
      { cause },
    )
    this.failedHop = failedHop
  }
}

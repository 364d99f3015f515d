/**
 * Root of every error the bridge raises on purpose. Each layer subclasses it
 * (`AddressError`, `StoreLockedError`, …) so callers can branch on the type and
 * users see a specific `code` and message instead of a stack trace.
 */
export class ParanoimError extends Error {
  readonly code: string

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
    this.name = new.target.name
  }
}

import { ParanoimError } from '../errors.js'

export type IdentityErrorCode =
  | 'IDENTITY_NICKNAME_INVALID'
  | 'IDENTITY_NICKNAME_TAKEN'
  | 'IDENTITY_EXISTS'
  | 'IDENTITY_NOT_FOUND'
  | 'IDENTITY_PASSWORD_TOO_SHORT'
  | 'IDENTITY_NOT_CONFIRMED'

/** A request about local identities that cannot be done as asked. */
export class IdentityError extends ParanoimError {
  declare readonly code: IdentityErrorCode

  constructor(code: IdentityErrorCode, message: string) {
    super(code, message)
  }
}

import { ParanoimError } from '../../errors.js'

/** RFC 6120 §6.5 SASL failure conditions. */
export type SaslCondition =
  | 'aborted'
  | 'account-disabled'
  | 'credentials-expired'
  | 'encryption-required'
  | 'incorrect-encoding'
  | 'invalid-authzid'
  | 'invalid-mechanism'
  | 'malformed-request'
  | 'mechanism-too-weak'
  | 'not-authorized'
  | 'temporary-auth-failure'

/** Authentication failed; the connection answers `<failure><condition/></failure>` and lets the client retry. */
export class SaslError extends ParanoimError {
  constructor(
    readonly condition: SaslCondition,
    readonly text?: string,
  ) {
    super(`SASL_${condition.toUpperCase().replaceAll('-', '_')}`, text ? `${condition}: ${text}` : condition)
  }
}

import { ParanoimError } from '../errors.js'

/**
 * The RFC 6120 §8.3.3 conditions the gateway refuses a stanza with. The
 * service turns a GatewayError into the XMPP server's XMPPError (same
 * condition and text), which bounces it to the sending client.
 */
export type GatewayCondition =
  | 'remote-server-not-found'
  | 'remote-server-timeout'
  | 'item-not-found'
  | 'recipient-unavailable'
  | 'service-unavailable'
  | 'feature-not-implemented'
  | 'policy-violation'
  | 'resource-constraint'
  // Group rooms (gateway/groups/): refusals by the signed group state.
  | 'forbidden'
  | 'registration-required'
  | 'not-acceptable'
  | 'not-authorized'
  | 'not-allowed'

/** A stanza the gateway cannot send; `condition` is the stanza error the client gets. */
export class GatewayError extends ParanoimError {
  readonly condition: GatewayCondition
  readonly text: string

  constructor(condition: GatewayCondition, text: string, options?: { cause?: unknown }) {
    super(`GATEWAY_${condition.toUpperCase().replaceAll('-', '_')}`, `${condition}: ${text}`, options)
    this.condition = condition
    this.text = text
  }
}

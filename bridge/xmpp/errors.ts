import type { Element } from 'ltx'
import { ParanoimError } from '../errors.js'

/** RFC 6120 §8.3.3 stanza error conditions, each with the error type the RFC pairs it with. */
const STANZA_CONDITIONS = {
  'bad-request': 'modify',
  conflict: 'cancel',
  'feature-not-implemented': 'cancel',
  forbidden: 'auth',
  gone: 'cancel',
  'internal-server-error': 'cancel',
  'item-not-found': 'cancel',
  'jid-malformed': 'modify',
  'not-acceptable': 'modify',
  'not-allowed': 'cancel',
  'not-authorized': 'auth',
  'policy-violation': 'modify',
  'recipient-unavailable': 'wait',
  redirect: 'modify',
  'registration-required': 'auth',
  'remote-server-not-found': 'cancel',
  'remote-server-timeout': 'wait',
  'resource-constraint': 'wait',
  'service-unavailable': 'cancel',
  'subscription-required': 'auth',
  'undefined-condition': 'cancel',
  'unexpected-request': 'wait',
} as const

export type StanzaErrorCondition = keyof typeof STANZA_CONDITIONS
export type StanzaErrorType = 'auth' | 'cancel' | 'continue' | 'modify' | 'wait'

/**
 * A stanza error (RFC 6120 §8.3): thrown by IQ handlers and hooks, turned into an
 * `<error/>` reply to the sender by the core. The one error type modules use.
 */
export class XMPPError extends ParanoimError {
  readonly condition: StanzaErrorCondition
  readonly type: StanzaErrorType
  readonly text: string | undefined
  /** An application-specific condition (RFC 6120 §8.3.2), e.g. XEP-0191's `<blocked/>`. */
  readonly appCondition: Element | undefined

  constructor(
    condition: StanzaErrorCondition,
    text?: string,
    options: { type?: StanzaErrorType; appCondition?: Element } = {},
  ) {
    super(`XMPP_${condition.toUpperCase().replaceAll('-', '_')}`, text ? `${condition}: ${text}` : condition)
    this.condition = condition
    this.type = options.type ?? STANZA_CONDITIONS[condition]
    this.text = text
    this.appCondition = options.appCondition
  }
}

/** RFC 6120 §4.9.3 stream error conditions. */
export type StreamErrorCondition =
  | 'bad-format'
  | 'bad-namespace-prefix'
  | 'conflict'
  | 'connection-timeout'
  | 'host-gone'
  | 'host-unknown'
  | 'improper-addressing'
  | 'internal-server-error'
  | 'invalid-from'
  | 'invalid-namespace'
  | 'invalid-xml'
  | 'not-authorized'
  | 'not-well-formed'
  | 'policy-violation'
  | 'remote-connection-failed'
  | 'reset'
  | 'resource-constraint'
  | 'restricted-xml'
  | 'see-other-host'
  | 'system-shutdown'
  | 'undefined-condition'
  | 'unsupported-encoding'
  | 'unsupported-feature'
  | 'unsupported-stanza-type'
  | 'unsupported-version'

/** A stream-level error (RFC 6120 §4.9): the connection sends `<stream:error/>`, closes the stream and the socket. */
export class StreamError extends ParanoimError {
  readonly condition: StreamErrorCondition
  readonly text: string | undefined

  constructor(condition: StreamErrorCondition, text?: string) {
    super(
      `XMPP_STREAM_${condition.toUpperCase().replaceAll('-', '_')}`,
      text ? `${condition}: ${text}` : condition,
    )
    this.condition = condition
    this.text = text
  }
}

import { XMPPError } from './errors.js'

/**
 * A JID (RFC 7622) after the normalisation this server applies: localpart and
 * domain lowercased (a simplification of PRECIS case mapping that is exact for
 * the ASCII nicknames local accounts use), resource kept as given.
 */
export class JID {
  constructor(
    readonly local: string,
    readonly domain: string,
    readonly resource: string = '',
  ) {}

  /** Parses untrusted text; throws `XMPPError('jid-malformed')` (RFC 7622 §3). */
  static parse(text: string): JID {
    const slash = text.indexOf('/')
    const bareText = slash < 0 ? text : text.slice(0, slash)
    const resource = slash < 0 ? '' : text.slice(slash + 1)
    const at = bareText.indexOf('@')
    const local = at < 0 ? '' : bareText.slice(0, at)
    const domain = (at < 0 ? bareText : bareText.slice(at + 1)).replace(/\.$/, '')
    if (at >= 0 && !validPart(local, LOCAL_FORBIDDEN))
      throw new XMPPError('jid-malformed', `bad localpart in ${text}`)
    if (!validPart(domain, DOMAIN_FORBIDDEN)) throw new XMPPError('jid-malformed', `bad domain in ${text}`)
    if (slash >= 0 && !validPart(resource, CONTROL))
      throw new XMPPError('jid-malformed', `bad resource in ${text}`)
    return new JID(local.toLowerCase(), domain.toLowerCase(), resource)
  }

  /** `parse` for an optional attribute: undefined stays undefined. */
  static parseOptional(text: string | undefined): JID | undefined {
    return text === undefined ? undefined : JID.parse(text)
  }

  get bare(): JID {
    return this.resource === '' ? this : new JID(this.local, this.domain)
  }

  get isBare(): boolean {
    return this.resource === ''
  }

  /** `user@domain` without the resource. */
  get bareString(): string {
    return this.local === '' ? this.domain : `${this.local}@${this.domain}`
  }

  equals(other: JID): boolean {
    return this.local === other.local && this.domain === other.domain && this.resource === other.resource
  }

  toString(): string {
    return this.resource === '' ? this.bareString : `${this.bareString}/${this.resource}`
  }
}

// RFC 7622 §3.3.1 forbids these in a localpart; a domain is a hostname, so only host characters.
const LOCAL_FORBIDDEN = /["&'/:<>@\s\p{Cc}]/u
const DOMAIN_FORBIDDEN = /[^a-zA-Z0-9.\-[\]:\p{L}\p{N}]/u
const CONTROL = /\p{Cc}/u
const MAX_PART_BYTES = 1023

function validPart(part: string, forbidden: RegExp): boolean {
  return part.length > 0 && Buffer.byteLength(part) <= MAX_PART_BYTES && !forbidden.test(part)
}

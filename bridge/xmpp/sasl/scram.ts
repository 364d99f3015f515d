import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto'
import { SaslError } from './errors.js'

/** The hash of a SCRAM family: SCRAM-SHA-1 (RFC 5802) or SCRAM-SHA-256 (RFC 7677). */
export type ScramHash = 'SHA-1' | 'SHA-256'

const NODE_HASH = { 'SHA-1': 'sha1', 'SHA-256': 'sha256' } as const
const KEY_LENGTH = { 'SHA-1': 20, 'SHA-256': 32 } as const

/** What the server stores for one password and hash (RFC 5802 §5): never the password, never ClientKey. */
export interface ScramCredential {
  salt: Uint8Array
  iterations: number
  storedKey: Uint8Array
  serverKey: Uint8Array
}

function hmac(hash: ScramHash, key: Uint8Array, data: string | Uint8Array): Buffer {
  return createHmac(NODE_HASH[hash], key).update(data).digest()
}

function h(hash: ScramHash, data: Uint8Array): Buffer {
  return createHash(NODE_HASH[hash]).update(data).digest()
}

/**
 * SASLprep (RFC 4013) for the passwords people type: NFKC and non-ASCII
 * spaces mapped to U+0020, the steps that change real-world passwords.
 */
export function saslPrep(password: string): string {
  return password.replace(/[\u00A0\u1680\u2000-\u200B\u202F\u205F\u3000]/g, ' ').normalize('NFKC')
}

/** SaltedPassword := Hi(Normalize(password), salt, i) and the keys derived from it (RFC 5802 §3). */
export function deriveScramKeys(
  hash: ScramHash,
  password: string,
  salt: Uint8Array,
  iterations: number,
): ScramCredential & { clientKey: Uint8Array } {
  const salted = pbkdf2Sync(saslPrep(password), salt, iterations, KEY_LENGTH[hash], NODE_HASH[hash])
  const clientKey = hmac(hash, salted, 'Client Key')
  return {
    salt,
    iterations,
    clientKey,
    storedKey: h(hash, clientKey),
    serverKey: hmac(hash, salted, 'Server Key'),
  }
}

/** A fresh credential for storage (plain Uint8Arrays, as the store's codec expects). */
export function newScramCredential(hash: ScramHash, password: string, iterations: number) {
  const { salt, storedKey, serverKey, clientKey } = deriveScramKeys(
    hash,
    password,
    randomBytes(16),
    iterations,
  )
  return {
    credential: {
      salt: new Uint8Array(salt),
      iterations,
      storedKey: new Uint8Array(storedKey),
      serverKey: new Uint8Array(serverKey),
    },
    /** What a login with this password will reveal (the login unlock wraps under it). */
    clientKey: new Uint8Array(clientKey),
  }
}

/** Channel binding a TLS connection can provide (RFC 5929, RFC 9266). */
export interface ChannelBindings {
  /** The binding types the server advertises (XEP-0440), e.g. ['tls-exporter', 'tls-server-end-point']. */
  types: readonly string[]
  data(type: string): Uint8Array | undefined
}

export interface ScramServerOptions {
  hash: ScramHash
  /** Whether this is the -PLUS variant (channel binding required). */
  plus: boolean
  /** The connection's bindings; null on a stream without TLS. */
  bindings: ChannelBindings | null
  /** The stored credential of a user, or undefined for an unknown user (then a decoy is used, see below). */
  lookup(username: string): Promise<ScramCredential | undefined>
  /** A decoy salt for unknown users, stable per username, so probing does not reveal which accounts exist. */
  decoySalt(username: string): Uint8Array
  decoyIterations: number
  nonce?: () => string
}

export interface ScramResult {
  username: string
  clientKey: Uint8Array
  serverFinal: string
}

const SAFE_VALUE = /^[\x21-\x2b\x2d-\x7e]+$/

function attributes(message: string): Map<string, string> {
  const map = new Map<string, string>()
  for (const part of message.split(',')) {
    const match = /^([a-zA-Z])=(.*)$/s.exec(part)
    if (!match) throw new SaslError('malformed-request', `bad attribute "${part.slice(0, 20)}"`)
    map.set(match[1]!, match[2]!)
  }
  return map
}

/** RFC 5802 §5.1: "=2C" and "=3D" are the only escapes in a saslname. */
function decodeSaslName(name: string): string {
  if (/=(?!2C|3D)/.test(name)) throw new SaslError('malformed-request', 'bad escape in username')
  return name.replaceAll('=2C', ',').replaceAll('=3D', '=')
}

/** The server side of one SCRAM exchange (RFC 5802 §5, RFC 7677), with -PLUS channel binding. */
export class ScramServer {
  private gs2Header = ''
  private clientFirstBare = ''
  private serverFirst = ''
  private nonce = ''
  private username = ''
  private cbType: string | undefined
  private credential: ScramCredential | undefined
  private decoy = false

  constructor(private readonly options: ScramServerOptions) {}

  async start(clientFirst: string): Promise<string> {
    const match = /^([^,]*),([^,]*),(.*)$/s.exec(clientFirst)
    if (!match) throw new SaslError('malformed-request', 'no GS2 header')
    const [, cbFlag, authzid, bare] = match as unknown as [string, string, string, string]
    this.checkChannelBindingFlag(cbFlag)
    this.gs2Header = `${cbFlag},${authzid},`
    this.clientFirstBare = bare
    const attrs = attributes(bare)
    if (attrs.has('m')) throw new SaslError('malformed-request', 'mandatory extensions are not supported')
    const user = attrs.get('n')
    const clientNonce = attrs.get('r')
    if (!user || !clientNonce || !SAFE_VALUE.test(clientNonce)) {
      throw new SaslError('malformed-request', 'username and nonce required')
    }
    this.username = decodeSaslName(user).toLowerCase()
    if (authzid !== '' && !authzid.startsWith('a=')) throw new SaslError('malformed-request', 'bad authzid')
    this.credential = await this.options.lookup(this.username)
    this.decoy = this.credential === undefined
    const { salt, iterations } = this.credential ?? {
      salt: this.options.decoySalt(this.username),
      iterations: this.options.decoyIterations,
    }
    this.nonce = clientNonce + (this.options.nonce?.() ?? randomBytes(18).toString('base64'))
    this.serverFirst = `r=${this.nonce},s=${Buffer.from(salt).toString('base64')},i=${iterations}`
    return this.serverFirst
  }

  finish(clientFinal: string): ScramResult {
    const proofAt = clientFinal.lastIndexOf(',p=')
    if (proofAt < 0) throw new SaslError('malformed-request', 'no proof')
    const withoutProof = clientFinal.slice(0, proofAt)
    const attrs = attributes(withoutProof)
    if (attrs.get('r') !== this.nonce) throw new SaslError('not-authorized', 'nonce mismatch')
    const binding = Buffer.from(attrs.get('c') ?? '', 'base64')
    if (!timingSafeEqualBytes(binding, this.expectedBinding())) {
      throw new SaslError('not-authorized', 'channel binding mismatch')
    }
    const { hash } = this.options
    const proof = Buffer.from(clientFinal.slice(proofAt + 3), 'base64')
    const authMessage = `${this.clientFirstBare},${this.serverFirst},${withoutProof}`
    const credential = this.credential
    if (this.decoy || !credential || proof.length !== KEY_LENGTH[hash]) throw new SaslError('not-authorized')
    const clientSignature = hmac(hash, credential.storedKey, authMessage)
    const clientKey = Buffer.alloc(proof.length)
    for (let i = 0; i < proof.length; i++) clientKey[i] = proof[i]! ^ clientSignature[i]!
    if (!timingSafeEqualBytes(h(hash, clientKey), credential.storedKey)) throw new SaslError('not-authorized')
    const serverSignature = hmac(hash, credential.serverKey, authMessage)
    return { username: this.username, clientKey, serverFinal: `v=${serverSignature.toString('base64')}` }
  }

  /** The authzid the client asked for ('' when none); the caller checks it names the same account. */
  get authzid(): string {
    const a = this.gs2Header.split(',')[1] ?? ''
    return a === '' ? '' : decodeSaslName(a.slice(2))
  }

  /**
   * RFC 5802 §6: 'y' means "I support binding but you did not offer it"; when we
   * did offer it that is a downgrade and must fail. 'p=' is only for -PLUS.
   */
  private checkChannelBindingFlag(flag: string): void {
    const { plus, bindings } = this.options
    if (flag.startsWith('p=')) {
      const type = flag.slice(2)
      if (!plus) throw new SaslError('malformed-request', 'channel binding requested on a non-PLUS mechanism')
      // Not a wrong password (no proof was checked), so not not-authorized: that would count against the
      // login rate limit, and slixmpp 1.8 (tls-unique on TLS 1.3) would lock itself out by retrying.
      if (!bindings?.types.includes(type)) {
        const offered = bindings?.types.join(', ') || 'none'
        throw new SaslError('malformed-request', `unsupported channel binding ${type} (offered: ${offered})`)
      }
      this.cbType = type
      return
    }
    if (plus) throw new SaslError('malformed-request', '-PLUS mechanisms require channel binding')
    if (flag === 'y' && bindings && bindings.types.length > 0) {
      throw new SaslError('not-authorized', 'channel binding downgrade detected')
    }
    if (flag !== 'n' && flag !== 'y') throw new SaslError('malformed-request', 'bad channel binding flag')
  }

  private expectedBinding(): Buffer {
    const header = Buffer.from(this.gs2Header)
    if (this.cbType === undefined) return header
    const data = this.options.bindings?.data(this.cbType)
    if (!data) throw new SaslError('not-authorized', 'channel binding data unavailable')
    return Buffer.concat([header, data])
  }
}

function timingSafeEqualBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b)
}

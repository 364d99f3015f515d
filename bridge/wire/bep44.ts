import { ParanoimError } from '../errors.js'

/**
 * The bytes a BEP 44 mutable item's signature covers: bencoded key/value
 * pairs without the enclosing dictionary,
 *   [ "4:salt" <len>":"<salt> ] "3:seqi"<seq>"e" "1:v" <bencoded v>
 * e.g. "4:salt6:foobar3:seqi1e1:v12:Hello World!" (BEP 44 test vector 2).
 * bittorrent-dht builds them itself when signing and verifying; we parse them
 * again in our `verify` hook to look inside `v` before a node stores an item.
 */
export interface Bep44Signable {
  salt?: Uint8Array
  seq: number
  /** `v` when it is a byte string (the only kind we publish); null for any other bencoded value. */
  v: Uint8Array | null
}

export type Bep44ErrorCode = 'BEP44_MALFORMED'

export class Bep44FormatError extends ParanoimError {
  declare readonly code: Bep44ErrorCode

  constructor(message: string) {
    super('BEP44_MALFORMED', `BEP 44 signable bytes: ${message}`)
  }
}

/** BEP 44 caps salt at 64 bytes. */
export const BEP44_MAX_SALT = 64

const ascii = new TextEncoder()

export function encodeBep44Signable(item: { salt?: Uint8Array; seq: number; v: Uint8Array }): Uint8Array {
  const parts: Uint8Array[] = []
  if (item.salt && item.salt.length > 0) parts.push(ascii.encode(`4:salt${item.salt.length}:`), item.salt)
  parts.push(ascii.encode(`3:seqi${item.seq}e1:v${item.v.length}:`), item.v)
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const part of parts) {
    out.set(part, at)
    at += part.length
  }
  return out
}

/** Strict: every byte accounted for, canonical integers, salt ≤ 64 bytes. Throws Bep44FormatError. */
export function decodeBep44Signable(bytes: Uint8Array): Bep44Signable {
  const reader = new Reader(bytes)
  let salt: Uint8Array | undefined
  if (reader.startsWith('4:salt')) {
    reader.expect('4:salt')
    salt = reader.byteString()
    if (salt.length > BEP44_MAX_SALT) throw new Bep44FormatError(`salt longer than ${BEP44_MAX_SALT} bytes`)
  }
  reader.expect('3:seqi')
  const seq = reader.integerUntil('e')
  reader.expect('1:v')
  const v = reader.peekDigit() ? reader.byteString() : null
  if (v !== null && !reader.atEnd()) throw new Bep44FormatError('bytes after v')
  return salt ? { salt, seq, v } : { seq, v }
}

class Reader {
  #at = 0

  constructor(private readonly bytes: Uint8Array) {}

  atEnd(): boolean {
    return this.#at === this.bytes.length
  }

  startsWith(text: string): boolean {
    for (let i = 0; i < text.length; i++) if (this.bytes[this.#at + i] !== text.charCodeAt(i)) return false
    return true
  }

  expect(text: string): void {
    if (!this.startsWith(text)) throw new Bep44FormatError(`expected "${text}" at byte ${this.#at}`)
    this.#at += text.length
  }

  peekDigit(): boolean {
    const c = this.bytes[this.#at]
    return c !== undefined && c >= 0x30 && c <= 0x39
  }

  /** A bencoded integer's digits up to `end` (consumed): no leading zeros, no "-0", a safe integer. */
  integerUntil(end: string): number {
    const stop = this.bytes.indexOf(end.charCodeAt(0), this.#at)
    if (stop < 0 || stop - this.#at > 17) throw new Bep44FormatError('unterminated or oversized integer')
    const text = String.fromCharCode(...this.bytes.subarray(this.#at, stop))
    if (!/^(0|-?[1-9][0-9]*)$/.test(text)) throw new Bep44FormatError(`not a canonical integer: "${text}"`)
    const value = Number(text)
    if (!Number.isSafeInteger(value)) throw new Bep44FormatError('integer out of range')
    this.#at = stop + 1
    return value
  }

  /** <length>":"<bytes>; the length is a non-negative canonical integer within the buffer. */
  byteString(): Uint8Array {
    const length = this.integerUntil(':')
    if (length < 0 || this.#at + length > this.bytes.length)
      throw new Bep44FormatError('byte string overruns')
    const value = this.bytes.subarray(this.#at, this.#at + length)
    this.#at += length
    return value
  }
}

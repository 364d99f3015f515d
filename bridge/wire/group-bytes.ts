import { concatBytes } from '@noble/hashes/utils.js'
import { ParanoimError } from '../errors.js'

/**
 * What the group formats (docs/protocol.md "Groups") share: their error type
 * and a bounds-checked reader and writer. Integers are big-endian.
 */
export type GroupWireErrorCode =
  /** Shorter or longer than the format allows, or a length field running past the end. */
  | 'GROUP_LENGTH'
  /** A format version this program does not know. */
  | 'GROUP_VERSION'
  /** An unknown type, kind, op, affiliation or mode byte. */
  | 'GROUP_TYPE'
  /** A field holds a value its format forbids (text that is not UTF-8, a zero count, a time beyond 2^53 − 1…). */
  | 'GROUP_FIELD'

/** Group bytes that do not match their format. The group decoders throw only this. */
export class GroupWireError extends ParanoimError {
  declare readonly code: GroupWireErrorCode

  constructor(code: GroupWireErrorCode, message: string) {
    super(code, message)
  }
}

export const GROUP_FORMAT_VERSION = 1
export const KEY_BYTES = 32
export const SIGNATURE_BYTES = 64
export const HASH_BYTES = 32
export const MESSAGE_ID_BYTES = 16

const utf8 = new TextEncoder()
const strictUtf8 = new TextDecoder('utf-8', { fatal: true })
/** Characters XML 1.0 (§2.2 Char) forbids, so every text goes back into a stanza. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are exactly the characters refused
const NOT_XML_CHAR = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ud800-\udfff\ufffe\uffff]/u

/** UTF-8 bytes of `text` if it is at most `max` bytes of XML characters; throws GROUP_FIELD otherwise. */
export function textBytes(text: string, max: number, name: string): Uint8Array {
  if (typeof text !== 'string' || NOT_XML_CHAR.test(text))
    throw new GroupWireError('GROUP_FIELD', `${name} is not text of XML characters`)
  const bytes = utf8.encode(text)
  if (bytes.length > max)
    throw new GroupWireError('GROUP_LENGTH', `${name} of ${bytes.length} bytes; at most ${max}`)
  return bytes
}

export function checkUint(value: number, max: number, name: string): number {
  if (!Number.isInteger(value) || value < 0 || value > max)
    throw new GroupWireError('GROUP_FIELD', `${name} ${value} is not an integer in 0..${max}`)
  return value
}

export function sized(value: Uint8Array, length: number, name: string): Uint8Array {
  if (!(value instanceof Uint8Array) || value.length !== length)
    throw new GroupWireError('GROUP_LENGTH', `${name} must be ${length} bytes, got ${value?.length}`)
  return value
}

export class Writer {
  private readonly parts: Uint8Array[] = []
  private size = 0

  bytes(part: Uint8Array): this {
    this.parts.push(part)
    this.size += part.length
    return this
  }
  fixed(part: Uint8Array, length: number, name: string): this {
    return this.bytes(sized(part, length, name))
  }
  u8(value: number, name = 'byte'): this {
    return this.bytes(Uint8Array.of(checkUint(value, 0xff, name)))
  }
  u16(value: number, name = 'u16'): this {
    checkUint(value, 0xffff, name)
    return this.bytes(Uint8Array.of(value >> 8, value & 0xff))
  }
  u32(value: number, name = 'u32'): this {
    const out = new Uint8Array(4)
    new DataView(out.buffer).setUint32(0, checkUint(value, 0xffffffff, name))
    return this.bytes(out)
  }
  u64(value: number, name = 'time'): this {
    const out = new Uint8Array(8)
    new DataView(out.buffer).setBigUint64(0, BigInt(checkUint(value, Number.MAX_SAFE_INTEGER, name)))
    return this.bytes(out)
  }
  /** len (1) ‖ UTF-8. */
  text8(text: string, max: number, name: string): this {
    const bytes = textBytes(text, Math.min(max, 0xff), name)
    return this.u8(bytes.length).bytes(bytes)
  }
  /** len (2) ‖ UTF-8. */
  text16(text: string, max: number, name: string): this {
    const bytes = textBytes(text, Math.min(max, 0xffff), name)
    return this.u16(bytes.length).bytes(bytes)
  }
  get length(): number {
    return this.size
  }
  finish(): Uint8Array {
    return concatBytes(...this.parts)
  }
}

export class Reader {
  private at = 0
  private readonly view: DataView

  constructor(
    private readonly data: Uint8Array,
    private readonly what: string,
  ) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength)
  }

  get offset(): number {
    return this.at
  }
  get remaining(): number {
    return this.data.length - this.at
  }
  private need(n: number, field: string): void {
    if (this.remaining < n)
      throw new GroupWireError('GROUP_LENGTH', `${this.what} is cut short in its ${field}`)
  }
  take(n: number, field: string): Uint8Array {
    this.need(n, field)
    this.at += n
    return this.data.slice(this.at - n, this.at)
  }
  rest(): Uint8Array {
    return this.take(this.remaining, 'end')
  }
  u8(field: string): number {
    this.need(1, field)
    return this.data[this.at++]!
  }
  u16(field: string): number {
    this.need(2, field)
    this.at += 2
    return this.view.getUint16(this.at - 2)
  }
  u32(field: string): number {
    this.need(4, field)
    this.at += 4
    return this.view.getUint32(this.at - 4)
  }
  u64(field: string): number {
    this.need(8, field)
    const value = this.view.getBigUint64(this.at)
    this.at += 8
    if (value > BigInt(Number.MAX_SAFE_INTEGER))
      throw new GroupWireError('GROUP_FIELD', `${this.what}: ${field} beyond 2^53 − 1`)
    return Number(value)
  }
  text(length: number, max: number, field: string): string {
    if (length > max)
      throw new GroupWireError('GROUP_LENGTH', `${this.what}: ${field} of ${length} bytes; at most ${max}`)
    const bytes = this.take(length, field)
    let text: string
    try {
      text = strictUtf8.decode(bytes)
    } catch {
      throw new GroupWireError('GROUP_FIELD', `${this.what}: ${field} is not UTF-8`)
    }
    if (NOT_XML_CHAR.test(text))
      throw new GroupWireError('GROUP_FIELD', `${this.what}: ${field} holds a character XML forbids`)
    return text
  }
  text8(max: number, field: string): string {
    return this.text(this.u8(field), max, field)
  }
  text16(max: number, field: string): string {
    return this.text(this.u16(field), max, field)
  }
  /** Nothing may follow the last field. */
  end(): void {
    if (this.remaining !== 0)
      throw new GroupWireError('GROUP_LENGTH', `${this.remaining} bytes after the end of ${this.what}`)
  }
}

import { z } from 'zod'

/** How a table turns its values into bytes and back. `decode` throws on bytes it does not accept. */
export interface Codec<T> {
  encode(value: T): Uint8Array
  decode(bytes: Uint8Array): T
}

/** A Uint8Array field in a jsonCodec schema (z.instanceof would narrow it to ArrayBuffer-backed arrays). */
export const bytesSchema = z.custom<Uint8Array>((value) => value instanceof Uint8Array, 'expected bytes')

/** Marks a byte string inside JSON; JSON has no binary type. */
const BYTES_TAG = '$bytes'

function replacer(_key: string, value: unknown): unknown {
  return value instanceof Uint8Array ? { [BYTES_TAG]: Buffer.from(value).toString('base64') } : value
}

function reviver(_key: string, value: unknown): unknown {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const entries = Object.entries(value)
    const [first] = entries
    if (entries.length === 1 && first && first[0] === BYTES_TAG && typeof first[1] === 'string') {
      return new Uint8Array(Buffer.from(first[1], 'base64'))
    }
  }
  return value
}

/**
 * JSON values in UTF-8, with Uint8Array fields stored as `{"$bytes": base64}`.
 * The schema checks every record read back, so a damaged or outdated record is
 * an error at the table, never a wrongly-shaped object further up.
 */
export function jsonCodec<S extends z.ZodType>(schema: S): Codec<z.output<S>> {
  const encoder = new TextEncoder()
  const decoder = new TextDecoder('utf-8', { fatal: true })
  return {
    encode: (value) => encoder.encode(JSON.stringify(value, replacer)),
    decode: (bytes) => schema.parse(JSON.parse(decoder.decode(bytes), reviver)),
  }
}

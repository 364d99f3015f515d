import { CryptoError } from './errors.js'

/**
 * Boundary checks shared by every public function of the crypto layer: a
 * wrong type or length is a CryptoError naming the argument, never a
 * TypeError from deep inside a library.
 */
export function assertBytes(value: unknown, name: string, length?: number): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) throw new CryptoError(`${name} must be a Uint8Array`)
  if (length !== undefined && value.length !== length) {
    throw new CryptoError(`${name} must be ${length} bytes, got ${value.length}`)
  }
}

export function assertOptionalBytes(value: unknown, name: string): asserts value is Uint8Array | undefined {
  if (value !== undefined) assertBytes(value, name)
}

export function assertInteger(
  value: unknown,
  name: string,
  min: number,
  max: number,
): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new CryptoError(`${name} must be an integer in [${min}, ${max}], got ${String(value)}`)
  }
}

export function assertString(value: unknown, name: string): asserts value is string {
  if (typeof value !== 'string') throw new CryptoError(`${name} must be a string`)
}

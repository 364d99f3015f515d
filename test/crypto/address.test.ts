import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { ADDRESS_LENGTH, encodeAddress, isAddress, parseAddress } from '../../bridge/crypto/address.js'
import { BASE32_ALPHABET } from '../../bridge/crypto/base32.js'
import { crc16CcittFalse } from '../../bridge/crypto/crc.js'
import { AddressError } from '../../bridge/crypto/errors.js'

const publicKey = fc.uint8Array({ minLength: 32, maxLength: 32 })
const code = (text: string) => {
  try {
    parseAddress(text)
    return 'ok'
  } catch (e) {
    assert.ok(e instanceof AddressError, `not an AddressError: ${String(e)}`)
    return e.code
  }
}

describe('addresses', () => {
  it('round-trip: 56 lowercase characters, case-insensitive, surrounding whitespace ignored', () => {
    fc.assert(
      fc.property(publicKey, (key) => {
        const address = encodeAddress(key)
        assert.match(address, /^[a-z2-7]{56}$/)
        assert.deepEqual(parseAddress(address), key)
        assert.deepEqual(parseAddress(` \t${address.toUpperCase()}\n`), key)
        assert.equal(isAddress(address), true)
      }),
    )
  })

  it('reports a wrong length first, with expected and actual length', () => {
    assert.throws(() => parseAddress('abc'), {
      code: 'ADDRESS_LENGTH',
      message: /must be 56 characters, got 3/,
    })
    assert.throws(() => parseAddress(`${'a'.repeat(56)}@bridge.local`), { code: 'ADDRESS_LENGTH' })
    assert.throws(() => parseAddress(42 as unknown as string), { code: 'ADDRESS_LENGTH' })
  })

  it('then an invalid character, naming it and its 1-based position', () => {
    const address = encodeAddress(new Uint8Array(32).fill(1))
    const bad = `${address.slice(0, 9)}1${address.slice(10)}`
    assert.throws(() => parseAddress(bad), { code: 'ADDRESS_CHARACTER', message: /"1" at position 10/ })
  })

  it('then the version, then the checksum', () => {
    const key = new Uint8Array(32).fill(7)
    const crc = crc16CcittFalse(Uint8Array.of(...key, 2))
    const base32 = (bytes: Uint8Array) => {
      let bits = ''
      for (const b of bytes) bits += b.toString(2).padStart(8, '0')
      return bits
        .match(/.{5}/g)!
        .map((c) => BASE32_ALPHABET[Number.parseInt(c, 2)])
        .join('')
    }
    const version2 = base32(Uint8Array.of(...key, crc >> 8, crc & 0xff, 2))
    assert.throws(() => parseAddress(version2), {
      code: 'ADDRESS_VERSION',
      message: /version 2 is not supported/,
    })
    const address = encodeAddress(key)
    const typo = `${address.slice(0, 20)}${address[20] === 'a' ? 'b' : 'a'}${address.slice(21)}`
    assert.throws(() => parseAddress(typo), { code: 'ADDRESS_CHECKSUM', message: /checksum does not match/ })
  })

  it('every single-character substitution is rejected (56 positions × 31 characters)', () => {
    fc.assert(
      fc.property(publicKey, (key) => {
        const address = encodeAddress(key)
        for (let i = 0; i < ADDRESS_LENGTH; i++) {
          for (const c of BASE32_ALPHABET) {
            if (c === address[i]) continue
            const changed = address.slice(0, i) + c + address.slice(i + 1)
            assert.notEqual(code(changed), 'ok', `undetected: position ${i + 1} → ${c}`)
          }
        }
      }),
      { numRuns: 30 },
    )
  })

  it('every transposition of two different adjacent characters is rejected', () => {
    fc.assert(
      fc.property(publicKey, (key) => {
        const address = encodeAddress(key)
        for (let i = 0; i < ADDRESS_LENGTH - 1; i++) {
          if (address[i] === address[i + 1]) continue
          const swapped = address.slice(0, i) + address[i + 1] + address[i] + address.slice(i + 2)
          assert.notEqual(code(swapped), 'ok', `undetected swap at ${i + 1}`)
        }
      }),
      { numRuns: 200 },
    )
  })

  it('proof by exhaustion: every error pattern inside any 10 consecutive bits is caught', () => {
    // The CRC is linear: an error e in (key ‖ version) and f in the checksum goes unnoticed iff
    // CRC(e) ⊕ CRC(0) = f. Version errors are caught by the version check. A substitution touches
    // ≤ 5 consecutive bits and an adjacent swap ≤ 10, including where they straddle two fields.
    const zero = crc16CcittFalse(new Uint8Array(33))
    for (let start = 0; start + 10 <= 280; start++) {
      for (let pattern = 1; pattern < 1 << 10; pattern++) {
        const error = new Uint8Array(35)
        for (let j = 0; j < 10; j++) {
          if ((pattern >> (9 - j)) & 1) error[(start + j) >> 3]! |= 0x80 >> ((start + j) & 7)
        }
        if (error[34] !== 0) continue
        const crcError = (error[32]! << 8) | error[33]!
        const messageError = Uint8Array.of(...error.subarray(0, 32), 0)
        assert.notEqual(crc16CcittFalse(messageError) ^ zero, crcError, `bits ${start}.. pattern ${pattern}`)
      }
    }
  })
})

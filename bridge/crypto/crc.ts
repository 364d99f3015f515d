/**
 * The cyclic redundancy checks of the text formats. A CRC of degree n detects
 * every error burst of at most n bits — a guarantee by construction, which a
 * truncated hash cannot give — so they guard human transcription: one wrong
 * base32 character flips at most 5 contiguous bits.
 * Bit-at-a-time, MSB-first (no reflection) unless noted: the inputs are tiny.
 */

/** Feeds the low `width` bits of `value`, most significant first, into a CRC register. */
function feed(crc: number, value: number, width: number, poly: number, degree: number): number {
  const top = 1 << (degree - 1)
  const mask = (1 << degree) - 1
  let reg = crc
  for (let i = width - 1; i >= 0; i--) {
    const bit = (value >> i) & 1
    const out = (reg & top) !== 0 ? 1 : 0
    reg = ((reg << 1) & mask) ^ ((out ^ bit) !== 0 ? poly : 0)
  }
  return reg
}

/** CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, no reflection, no final xor. check("123456789") = 0x29B1. */
export function crc16CcittFalse(data: Uint8Array): number {
  let crc = 0xffff
  for (const byte of data) crc = feed(crc, byte, 8, 0x1021, 16)
  return crc
}

/**
 * CRC-10/ATM (poly 0x233, init 0, no reflection) over a sequence of symbols of
 * `width` bits each, fed MSB-first. check(bytes "123456789") = 0x199.
 */
export function crc10(symbols: Iterable<number>, width: number): number {
  let crc = 0
  for (const s of symbols) crc = feed(crc, s, width, 0x233, 10)
  return crc
}

const CRC32_TABLE = (() => {
  const table = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    table[n] = c >>> 0
  }
  return table
})()

/** CRC-32 (ISO-HDLC, as zlib/PNG/Ethernet): reflected poly 0xEDB88320, init and final xor 0xFFFFFFFF. check = 0xCBF43926. */
export function crc32(data: Uint8Array): number {
  let c = 0xffffffff
  for (const byte of data) c = CRC32_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}

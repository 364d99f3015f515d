import { sha256 } from '@noble/hashes/sha2.js'
import { concatBytes, utf8ToBytes } from '@noble/hashes/utils.js'
import { assertBytes } from './assert.js'
import { base32Decode, base32Encode } from './base32.js'
import { crc32 } from './crc.js'
import { DOMAIN } from './domains.js'
import { BackupError } from './errors.js'
import { inspectSealedKey } from './keyfile.js'

/**
 * A sealed key as exactly three QR payloads (docs/protocol.md "Key backups"):
 *
 *   PIM1:<i>/3:<SET>:<DATA>:<CHECK>
 *
 * all in QR alphanumeric mode (uppercase base32, ':' and '/'). SET = first 5
 * bytes of SHA-256(DOMAIN.backupQrSet ‖ blob) in base32 (8 characters): the
 * same for the three parts of one backup, different between backups. DATA = the
 * i-th third of the blob. CHECK = CRC-32 of everything before the last ':'
 * (7 characters), so any one wrong character in a part is caught.
 */
const PARTS = 3
const PAYLOAD = /^PIM1:([1-3])\/3:([A-Z2-7]{8}):([A-Z2-7]+):([A-Z2-7]{7})$/

const upper = (bytes: Uint8Array) => base32Encode(bytes).toUpperCase()

function setId(blob: Uint8Array): string {
  return upper(sha256(concatBytes(utf8ToBytes(DOMAIN.backupQrSet), blob)).subarray(0, 5))
}

function partCheck(body: string): string {
  const crc = crc32(utf8ToBytes(body))
  return upper(Uint8Array.of(crc >>> 24, (crc >>> 16) & 0xff, (crc >>> 8) & 0xff, crc & 0xff))
}

export function backupToQrPayloads(blob: Uint8Array): [string, string, string] {
  assertBytes(blob, 'blob')
  inspectSealedKey(blob)
  const size = Math.ceil(blob.length / PARTS)
  const set = setId(blob)
  const part = (i: number) => {
    const body = `PIM1:${i + 1}/${PARTS}:${set}:${upper(blob.subarray(i * size, (i + 1) * size))}`
    return `${body}:${partCheck(body)}`
  }
  return [part(0), part(1), part(2)]
}

interface Part {
  index: number
  set: string
  data: Uint8Array
}

/** One payload, the `position`-th one given (1-based, for messages). */
function parsePart(payload: unknown, position: number): Part {
  const text = typeof payload === 'string' ? payload.trim().toUpperCase() : ''
  if (!text.startsWith('PIM')) {
    throw new BackupError('BACKUP_NOT_BACKUP', `QR code ${position} is not a ParanoIM QR payload`)
  }
  if (!text.startsWith('PIM1:')) {
    throw new BackupError('BACKUP_NOT_BACKUP', `QR code ${position} is from an unsupported backup version`)
  }
  const match = PAYLOAD.exec(text)
  const data = match && base32Decode(match[3]!)
  if (!match || !data || partCheck(text.slice(0, text.lastIndexOf(':'))) !== match[4]) {
    const index = /^PIM1:([1-3])\//.exec(text)?.[1]
    const which = index ? `part ${index}` : `QR code ${position}`
    throw new BackupError('BACKUP_QR_CORRUPT', `${which} is corrupted (scan it again)`)
  }
  return { index: Number(match[1]), set: match[2]!, data }
}

/** The sealed key of three QR payloads in any order. Throws BackupError (which part, what is wrong) or KeyBlobError. */
export function backupFromQrPayloads(payloads: string[]): Uint8Array {
  if (!Array.isArray(payloads))
    throw new BackupError('BACKUP_NOT_BACKUP', 'QR payloads must be a list of strings')
  const parts = payloads.map((p, i) => parsePart(p, i + 1))
  const other = parts.find((p) => p.set !== parts[0]!.set)
  if (other) {
    throw new BackupError(
      'BACKUP_QR_MIXED',
      `the QR codes come from different backups (part ${parts[0]!.index} and part ${other.index} do not belong together)`,
    )
  }
  const byIndex = new Map<number, Part>()
  for (const part of parts) {
    if (byIndex.has(part.index))
      throw new BackupError('BACKUP_QR_DUPLICATE', `part ${part.index} was given twice`)
    byIndex.set(part.index, part)
  }
  for (let i = 1; i <= PARTS; i++) {
    if (!byIndex.has(i)) throw new BackupError('BACKUP_QR_MISSING', `part ${i} of ${PARTS} is missing`)
  }
  const blob = concatBytes(...[1, 2, 3].map((i) => byIndex.get(i)!.data))
  if (setId(blob) !== parts[0]!.set) {
    throw new BackupError('BACKUP_QR_CORRUPT', 'the three parts do not form a valid backup')
  }
  inspectSealedKey(blob)
  return blob
}

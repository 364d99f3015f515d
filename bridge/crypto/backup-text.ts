import { assertBytes } from './assert.js'
import { BASE32_ALPHABET, base32Decode, base32Encode, base32Value } from './base32.js'
import { crc10, crc32 } from './crc.js'
import { BackupError } from './errors.js'
import { inspectSealedKey } from './keyfile.js'

/**
 * Printable backup of a sealed key (docs/protocol.md "Key backups"):
 *
 *   paranoim key backup v1
 *   01  aaaaa bbbbb ccccc ddddd  cc
 *   …
 *   11  aaaaa bb  cc
 *   end  11  ccccccc
 *
 * Each line: its number, up to 20 base32 characters in groups of 5, and two
 * check characters = CRC-10/ATM over (number as 8 bits ‖ each character's 5-bit
 * value). A one-character typo is a burst of ≤ 5 bits, an adjacent swap one of
 * ≤ 10, so both are always caught AND located; the number inside the check
 * catches a line typed under the wrong number. The last line gives the number of
 * lines and a CRC-32 of the whole sealed key, in base32 (7 characters).
 */
const HEADER = 'paranoim key backup v1'
const PER_LINE = 20
const GROUP = 5
/** A backup is ~400 characters; refuse absurd input before splitting it. */
const MAX_TEXT_LENGTH = 64 * 1024

function lineCheck(number: number, data: string): string {
  const crc = crc10([number, ...[...data].map(base32Value)].values(), 8)
  return BASE32_ALPHABET[crc >> 5]! + BASE32_ALPHABET[crc & 31]!
}

function crc32Text(blob: Uint8Array): string {
  const crc = crc32(blob)
  return base32Encode(Uint8Array.of(crc >>> 24, (crc >>> 16) & 0xff, (crc >>> 8) & 0xff, crc & 0xff))
}

const pad2 = (n: number) => String(n).padStart(2, '0')

export function backupToText(blob: Uint8Array): string {
  assertBytes(blob, 'blob')
  inspectSealedKey(blob)
  const data = base32Encode(blob)
  const lines = [HEADER]
  const count = Math.ceil(data.length / PER_LINE)
  for (let n = 1; n <= count; n++) {
    const chunk = data.slice((n - 1) * PER_LINE, n * PER_LINE)
    const groups = chunk.match(new RegExp(`.{1,${GROUP}}`, 'g'))!.join(' ')
    lines.push(`${pad2(n)}  ${groups}  ${lineCheck(n, chunk)}`)
  }
  lines.push(`end  ${pad2(count)}  ${crc32Text(blob)}`)
  return `${lines.join('\n')}\n`
}

interface DataLine {
  number: number
  data: string
  check: string
}

const fail = (code: BackupError['code'], message: string) => new BackupError(code, message)

const quote = (line: string) => JSON.stringify(line.length > 40 ? `${line.slice(0, 40)}…` : line)

function parseDataLine(tokens: string[], raw: string): DataLine {
  const number = Number(tokens[0])
  if (tokens.length < 3)
    throw fail('BACKUP_LINE_MALFORMED', `line ${tokens[0]}: expected "NN  data  cc", got ${quote(raw)}`)
  const data = tokens.slice(1, -1).join('')
  const check = tokens.at(-1)!
  for (const char of data + check) {
    if (base32Value(char) < 0) {
      throw fail(
        'BACKUP_LINE_MALFORMED',
        `line ${number}: ${JSON.stringify(char)} is not a backup character (a–z, 2–7)`,
      )
    }
  }
  if (check.length !== 2)
    throw fail('BACKUP_LINE_MALFORMED', `line ${number}: the check must be 2 characters, got ${quote(check)}`)
  if (data.length > PER_LINE) {
    throw fail(
      'BACKUP_LINE_MALFORMED',
      `line ${number}: ${data.length} characters, at most ${PER_LINE} expected`,
    )
  }
  return { number, data, check }
}

/** Header, numbered lines and final line, in text order; blank lines and extra whitespace ignored. */
function splitBackup(text: string): { lines: DataLine[]; end: string[] | undefined } {
  if (typeof text !== 'string') throw fail('BACKUP_NOT_BACKUP', 'backup text must be a string')
  if (text.length > MAX_TEXT_LENGTH)
    throw fail('BACKUP_NOT_BACKUP', 'not a ParanoIM key backup (far too long)')
  const rows = text
    .toLowerCase()
    .split(/\r?\n/)
    .map((row) => row.trim().split(/\s+/).join(' '))
    .filter((row) => row !== '')
  if (rows[0] !== HEADER) {
    const other = rows[0]?.startsWith('paranoim key backup v')
    throw fail(
      'BACKUP_NOT_BACKUP',
      other
        ? `unsupported backup version: ${quote(rows[0]!)}`
        : `not a ParanoIM key backup (the first line must be "${HEADER}")`,
    )
  }
  const lines: DataLine[] = []
  let end: string[] | undefined
  for (const row of rows.slice(1)) {
    const tokens = row.split(' ')
    if (tokens[0] === 'end' && end === undefined) end = tokens
    else if (/^\d{1,2}$/.test(tokens[0]!) && end === undefined) lines.push(parseDataLine(tokens, row))
    else throw fail('BACKUP_LINE_MALFORMED', `unexpected line ${quote(row)}`)
  }
  return { lines, end }
}

function parseEnd(end: string[] | undefined): { count: number; checksum: string } {
  if (end === undefined) throw fail('BACKUP_LINE_MISSING', 'the last line ("end  NN  checksum") is missing')
  const count = Number(end[1])
  if (end.length !== 3 || !/^\d{1,2}$/.test(end[1]!) || count < 1 || end[2]!.length !== 7) {
    throw fail(
      'BACKUP_LINE_MALFORMED',
      `the last line must be "end  NN  checksum", got ${quote(end.join(' '))}`,
    )
  }
  return { count, checksum: end[2]! }
}

function orderLines(lines: DataLine[], count: number): DataLine[] {
  const byNumber = new Map<number, DataLine>()
  for (const line of lines) {
    if (line.number < 1 || line.number > count) {
      throw fail('BACKUP_LINE_MALFORMED', `line ${line.number}: the last line announces only ${count} lines`)
    }
    if (byNumber.has(line.number)) throw fail('BACKUP_LINE_DUPLICATE', `line ${line.number} appears twice`)
    byNumber.set(line.number, line)
  }
  const missing = []
  for (let n = 1; n <= count; n++) if (!byNumber.has(n)) missing.push(n)
  if (missing.length > 0) {
    throw fail(
      'BACKUP_LINE_MISSING',
      `${missing.length > 1 ? 'lines' : 'line'} ${missing.join(', ')} missing`,
    )
  }
  return [...byNumber.values()].sort((a, b) => a.number - b.number)
}

/** Every line but the last is full; then each line's check characters. */
function checkLines(lines: DataLine[]): void {
  for (const { number, data } of lines) {
    if (number < lines.length && data.length !== PER_LINE) {
      throw fail(
        'BACKUP_LINE_MALFORMED',
        `line ${number}: ${data.length} characters, expected ${PER_LINE} (one missing or extra?)`,
      )
    }
  }
  const bad = lines.filter((line) => lineCheck(line.number, line.data) !== line.check)
  if (bad.length > 0) {
    throw fail(
      'BACKUP_LINE_CHECK',
      bad.map((l) => `line ${l.number}: check characters do not match (typo in this line?)`).join('; '),
    )
  }
}

/** The sealed key of a backup text. Throws BackupError naming the faulty line, or KeyBlobError. */
export function backupFromText(text: string): Uint8Array {
  const { lines, end } = splitBackup(text)
  const { count, checksum } = parseEnd(end)
  const ordered = orderLines(lines, count)
  checkLines(ordered)
  const blob = base32Decode(ordered.map((l) => l.data).join(''))
  if (blob === undefined) {
    throw fail('BACKUP_LINE_MALFORMED', `line ${count}: wrong number of characters for the last line`)
  }
  if (crc32Text(blob) !== checksum) {
    throw fail(
      'BACKUP_CHECKSUM',
      'every line checks out but the checksum in the last line does not match (typo in the last line?)',
    )
  }
  inspectSealedKey(blob)
  return blob
}

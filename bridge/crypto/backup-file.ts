import { base64 } from '@scure/base'
import { encodeAddress } from './address.js'
import { assertBytes } from './assert.js'
import { BackupError } from './errors.js'
import { inspectSealedKey } from './keyfile.js'

/**
 * Backup file (docs/protocol.md "Key backups"): a small JSON text file,
 *
 *   { "format": "paranoim-key-backup", "version": 1, "address": "<address>",
 *     "kdf": { "name": "scrypt", "logN": 17, "r": 8, "p": 1 }, "sealedKey": "<base64>" }
 *
 * `address` and `kdf` are for people reading the file; on import the address
 * must match the key inside, and `kdf` is informational (the blob carries it).
 */
const FORMAT = 'paranoim-key-backup'
const VERSION = 1
/** A backup file is ~500 bytes; refuse anything absurd before parsing it. */
const MAX_FILE_LENGTH = 64 * 1024

export function backupToFile(blob: Uint8Array): string {
  assertBytes(blob, 'blob')
  const { publicKey, kdf } = inspectSealedKey(blob)
  const file = {
    format: FORMAT,
    version: VERSION,
    address: encodeAddress(publicKey),
    kdf,
    sealedKey: base64.encode(blob),
  }
  return `${JSON.stringify(file, null, 2)}\n`
}

const formatError = (message: string) => new BackupError('BACKUP_FILE_FORMAT', message)

function parseJson(contents: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(contents)
    if (typeof value === 'object' && value !== null && !Array.isArray(value))
      return value as Record<string, unknown>
  } catch {}
  throw formatError('not a ParanoIM key backup file (expected a JSON object)')
}

function decodeSealedKey(value: unknown): Uint8Array {
  if (typeof value === 'string') {
    try {
      return base64.decode(value)
    } catch {}
  }
  throw formatError('backup file: "sealedKey" must be base64 text')
}

/** The sealed key of a backup file. Throws BackupError (BACKUP_FILE_FORMAT) or KeyBlobError. */
export function backupFromFile(contents: string): Uint8Array {
  if (typeof contents !== 'string' || contents.length > MAX_FILE_LENGTH) {
    throw formatError('not a ParanoIM key backup file')
  }
  const file = parseJson(contents)
  if (file['format'] !== FORMAT)
    throw formatError(`not a ParanoIM key backup file ("format" must be "${FORMAT}")`)
  if (file['version'] !== VERSION)
    throw formatError(`unsupported backup file version ${JSON.stringify(file['version'])}`)
  const blob = decodeSealedKey(file['sealedKey'])
  const { publicKey } = inspectSealedKey(blob)
  if (file['address'] !== encodeAddress(publicKey)) {
    throw formatError('backup file: "address" does not match the key inside')
  }
  return blob
}

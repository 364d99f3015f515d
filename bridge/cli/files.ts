import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { FileError } from './errors.js'

function fileError(action: string, path: string, err: unknown): FileError {
  const code = (err as NodeJS.ErrnoException).code
  const why = code === 'EEXIST' ? 'it already exists (not overwriting a backup)' : (code ?? String(err))
  return new FileError(`cannot ${action} ${path}: ${why}`, { cause: err })
}

export async function readInputFile(path: string): Promise<Buffer> {
  try {
    return await readFile(path)
  } catch (err) {
    throw fileError('read', path, err)
  }
}

/** Writes a new file readable by the owner only; an existing file is never replaced. */
export async function writeNewPrivateFile(path: string, data: string | Uint8Array): Promise<void> {
  try {
    await writeFile(path, data, { flag: 'wx', mode: 0o600 })
  } catch (err) {
    throw fileError('write', path, err)
  }
}

export async function makePrivateDir(path: string): Promise<void> {
  try {
    await mkdir(path, { recursive: true, mode: 0o700 })
  } catch (err) {
    throw fileError('create directory', path, err)
  }
}

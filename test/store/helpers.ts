import { rmSync } from 'node:fs'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const dirs = new Set<string>()

/**
 * A fresh directory under the OS temp dir, removed when the test file's
 * process exits. (Not node:test's after(): called from inside a before() hook
 * it fires after the first test, deleting data dirs that later tests and
 * running child processes still use.)
 */
export async function tempDir(prefix = 'paranoim-store-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  if (dirs.size === 0)
    process.once('exit', () => {
      for (const d of dirs) rmSync(d, { recursive: true, force: true })
    })
  dirs.add(dir)
  return dir
}

/** Array.fromAsync, which Node 20 lacks. */
export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of items) out.push(item)
  return out
}

import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * The project's root (where package.json, config/ and webui/ live), found by
 * walking up from this file: the same answer whether the code runs from its
 * TypeScript sources (tsx) or from the tsc build in dist/, one level deeper.
 */
function findProjectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    const manifest = join(dir, 'package.json')
    if (existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).name === 'paranoim') return dir
    const parent = dirname(dir)
    if (parent === dir) throw new Error('cannot find the paranoim package.json above bridge/paths')
    dir = parent
  }
}

export const PROJECT_ROOT = findProjectRoot()

/** A path inside the project, e.g. projectPath('config', 'testnet.toml'). */
export function projectPath(...parts: string[]): string {
  return join(PROJECT_ROOT, ...parts)
}

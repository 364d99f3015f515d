import assert from 'node:assert/strict'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { it } from 'node:test'
import { fileURLToPath } from 'node:url'

/**
 * DESIGN.md "Layers": each layer imports only the ones below it; the web UI
 * reaches the bridge through the service API, never LevelDB or sockets.
 * Layers of equal rank (crypto, store) do not import each other; the CLI, at
 * the top, may start the web UI.
 */
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
const RANK: Record<string, number> = {
  store: 0,
  crypto: 0,
  wire: 1,
  net: 2,
  dht: 3,
  onion: 4,
  messaging: 5,
  gateway: 6,
  xmpp: 7,
  service: 8,
  cli: 9,
}
/** Usable from every layer: configuration, logging, the error root, project paths, text tables, typings. */
const SHARED = new Set(['config', 'log.ts', 'errors.ts', 'paths.ts', 'text-table.ts', 'types'])
/** What the web UI may import from bridge/. */
const WEBUI_MAY_USE = new Set(['service', 'crypto', ...SHARED])

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return sourceFiles(path)
    return /\.tsx?$/.test(name) ? [path] : []
  })
}

function relativeImports(file: string): string[] {
  const text = readFileSync(file, 'utf8')
  const specs = [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)].map((m) => m[1]!)
  return specs.map((spec) => resolve(dirname(file), spec.replace(/\.js$/, '.ts')))
}

/** The bridge/ entry a path lies in: a layer folder, or a shared file/folder. */
function bridgePart(path: string): string | undefined {
  const rel = relative(join(ROOT, 'bridge'), path)
  return rel.startsWith('..') ? undefined : rel.split('/')[0]
}

function violations(): string[] {
  const found: string[] = []
  for (const file of sourceFiles(join(ROOT, 'bridge'))) {
    const from = bridgePart(file)!
    for (const target of relativeImports(file)) {
      const to = bridgePart(target)
      if (to === undefined) {
        // The CLI is the top of the bridge, beside the web UI it starts.
        if (from === 'cli' && relative(ROOT, target).startsWith('webui/')) continue
        found.push(`${relative(ROOT, file)} imports outside bridge/: ${relative(ROOT, target)}`)
        continue
      }
      if (to === from || SHARED.has(to)) continue
      const ok = from in RANK && to in RANK ? RANK[to]! < RANK[from]! : false
      if (!ok) found.push(`${relative(ROOT, file)} (${from}) imports ${relative(ROOT, target)} (${to})`)
    }
  }
  for (const file of sourceFiles(join(ROOT, 'webui'))) {
    for (const target of relativeImports(file)) {
      const to = bridgePart(target)
      if (to !== undefined && !WEBUI_MAY_USE.has(to)) {
        found.push(`${relative(ROOT, file)} (webui) imports ${relative(ROOT, target)} (${to})`)
      }
    }
  }
  return found
}

it('every import goes down the layers of DESIGN.md, and the web UI only uses the service API', () => {
  assert.deepEqual(violations(), [])
})

it('the check sees the layer folders it ranks (a renamed folder would silently escape it)', () => {
  const folders = readdirSync(join(ROOT, 'bridge')).filter((name) =>
    statSync(join(ROOT, 'bridge', name)).isDirectory(),
  )
  for (const folder of folders)
    assert.ok(folder in RANK || SHARED.has(folder), `bridge/${folder} has no rank`)
})

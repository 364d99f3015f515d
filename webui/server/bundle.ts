import { join, relative } from 'node:path'
import { build, type Plugin } from 'esbuild'
import { projectPath } from '../../bridge/paths.js'
import { PAGES } from './page-list.js'

const clientDir = projectPath('webui', 'client')

/**
 * bridge/crypto picks its default backend in default-backend.ts (node:crypto);
 * the browser gets default-backend.browser.ts (noble) instead.
 */
const browserCryptoBackend: Plugin = {
  name: 'browser-crypto-backend',
  setup(b) {
    b.onResolve({ filter: /\/default-backend\.js$/ }, (args) => ({
      path: join(args.resolveDir, 'default-backend.browser.ts'),
    }))
  },
}

async function bundleOnce(): Promise<Map<string, Uint8Array>> {
  const outdir = join(clientDir, 'out')
  const result = await build({
    entryPoints: {
      ...Object.fromEntries(Object.values(PAGES).map((name) => [name, join(clientDir, 'pages', name)])),
      'kdf-worker': join(clientDir, 'kdf-worker'),
    },
    bundle: true,
    write: false,
    format: 'esm',
    splitting: true,
    platform: 'browser',
    target: 'chrome110',
    minify: true,
    outdir,
    plugins: [browserCryptoBackend],
    logLevel: 'silent',
  })
  const files = new Map<string, Uint8Array>()
  for (const file of result.outputFiles) {
    files.set(`/build/${relative(outdir, file.path)}`, file.contents)
  }
  return files
}

let bundled: Promise<Map<string, Uint8Array>> | undefined

/**
 * Bundles the browser code (each page's script, and the key-derivation Web
 * Worker) in memory once per process (~1 s): nothing is written to disk, so
 * servers started side by side never race on files.
 */
export function browserBundle(): Promise<Map<string, Uint8Array>> {
  bundled ??= bundleOnce()
  return bundled
}

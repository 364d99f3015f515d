import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { ConfigError } from '../../bridge/config/errors.js'
import { loadConfig, parseOverrides, resolveDataDir } from '../../bridge/config/load.js'
import { defaultConfig } from '../../bridge/config/schema.js'
import { tempDir } from '../store/helpers.js'

const configFile = (name: string) => fileURLToPath(new URL(`../../config/${name}`, import.meta.url))

function rejectsWith(fn: () => unknown, ...fragments: string[]): void {
  assert.throws(fn, (err: Error) => {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${err}`)
    for (const fragment of fragments)
      assert.ok(err.message.includes(fragment), `"${err.message}" lacks "${fragment}"`)
    return true
  })
}

test('no files and no flags give the defaults', () => {
  assert.deepEqual(loadConfig(), defaultConfig())
})

test('config/testnet.toml and config/default.toml validate', () => {
  assert.equal(loadConfig({ files: [configFile('testnet.toml')] }).identity.kdf.logN, 12)
  assert.deepEqual(loadConfig({ files: [configFile('default.toml')] }), defaultConfig())
})

test('an unknown key stops loading, naming its full path', () => {
  rejectsWith(() => loadConfig({ overrides: { log: { colour: 'red' } } }), 'unknown key log.colour')
  rejectsWith(() => loadConfig({ overrides: { nosuchsection: {} } }), 'unknown key nosuchsection')
  rejectsWith(() => loadConfig({ overrides: parseOverrides(['identity.kdf.cost=3']) }), 'identity.kdf.cost')
})

test('a bad value names the key path and what was expected', () => {
  rejectsWith(() => loadConfig({ overrides: { log: { level: 'loud' } } }), 'log.level', '"debug"')
  rejectsWith(
    () => loadConfig({ overrides: { identity: { kdf: { logN: 'x' } } } }),
    'identity.kdf.logN',
    'number',
  )
  rejectsWith(() => loadConfig({ overrides: { identity: { kdf: { logN: 40 } } } }), 'identity.kdf.logN', '22')
})

test('--set values keep their TOML types; bare words are strings', () => {
  assert.deepEqual(
    parseOverrides([
      'identity.kdf.logN=10',
      'log.level=debug',
      'store.dataDir="/a b"',
      'x.list=["a", "b"]',
      'x.on=true',
    ]),
    {
      identity: { kdf: { logN: 10 } },
      log: { level: 'debug' },
      store: { dataDir: '/a b' },
      x: { list: ['a', 'b'], on: true },
    },
  )
  assert.deepEqual(parseOverrides(['store.dataDir=/tmp/p=q']), { store: { dataDir: '/tmp/p=q' } })
  const config = loadConfig({
    files: [configFile('testnet.toml')],
    overrides: parseOverrides(['identity.kdf.logN=10']),
  })
  assert.equal(config.identity.kdf.logN, 10)
  rejectsWith(() => parseOverrides(['novalue']), '--set expects key=value', 'novalue')
})

test('files apply in order; a broken or missing file is named', async () => {
  const dir = await tempDir('paranoim-config-')
  const a = join(dir, 'a.toml')
  const b = join(dir, 'b.toml')
  const broken = join(dir, 'broken.toml')
  await writeFile(a, '[log]\nlevel = "debug"\nformat = "json"\n')
  await writeFile(b, '[log]\nlevel = "warn"\n')
  await writeFile(broken, '[log\nlevel = ')
  assert.deepEqual(loadConfig({ files: [a, b] }).log, { level: 'warn', format: 'json' })
  rejectsWith(() => loadConfig({ files: [broken] }), broken, 'not valid TOML')
  rejectsWith(() => loadConfig({ files: [join(dir, 'missing.toml')] }), 'missing.toml', 'ENOENT')
})

test('the data dir defaults under the XDG data home', () => {
  const config = defaultConfig()
  assert.equal(resolveDataDir(config, { XDG_DATA_HOME: '/xdg' }), '/xdg/paranoim')
  assert.equal(resolveDataDir({ ...config, store: { dataDir: '/mine' } }, { XDG_DATA_HOME: '/xdg' }), '/mine')
})

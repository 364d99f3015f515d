import assert from 'node:assert/strict'
import { once } from 'node:events'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { EXIT, UsageError } from '../../bridge/cli/errors.js'
import { createProgram, runProgram } from '../../bridge/cli/program.js'
import { tempDir } from '../store/helpers.js'
import { FAST, runCli, spawnCli } from './run-cli.js'

const dir = await tempDir('paranoim-cli-')

test('--version prints the package version', async () => {
  const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8'))
  const result = await runCli(['--version'])
  assert.equal(result.code, 0)
  assert.equal(result.stdout, `${pkg.version}\n`)
})

test('--help lists the commands and the global options', async () => {
  const result = await runCli(['--help'])
  assert.equal(result.code, 0)
  for (const word of ['start', 'identity', '--data-dir', '--config', '--set', '--log-level', '--version']) {
    assert.ok(result.stdout.includes(word), `help lacks ${word}`)
  }
  const sub = await runCli(['identity', '--help'])
  for (const word of ['create', 'list', 'export', 'import', 'delete']) assert.ok(sub.stdout.includes(word))
})

test('an unknown command or option is a usage error', async () => {
  const result = await runCli(['frobnicate'])
  assert.equal(result.code, EXIT.usage)
  assert.match(result.stderr, /unknown command 'frobnicate'/)
})

test('an unknown config key stops the command, naming the key', async () => {
  const result = await runCli(['--data-dir', join(dir, 'x'), '--set', 'log.colour=red', 'identity', 'list'])
  assert.equal(result.code, EXIT.config)
  assert.match(result.stderr, /^error: .*\n\s+unknown key log\.colour\n$/)
})

test('a bad value over a --config file names the file, the key and what was expected', async () => {
  const testnet = fileURLToPath(new URL('../../config/testnet.toml', import.meta.url))
  const bad = await runCli(['--config', testnet, '--set', 'identity.kdf.logN=99', 'identity', 'list'])
  assert.equal(bad.code, EXIT.config)
  assert.match(bad.stderr, /testnet\.toml is invalid:\n\s+identity\.kdf\.logN: .*22/)
})

test('start runs until SIGTERM and stops cleanly; a second process gets a message naming the locked dir', async () => {
  const dataDir = join(dir, 'running')
  const bridge = spawnCli(['--data-dir', dataDir, ...FAST, '--log-level', 'info', 'start'])
  const exited = once(bridge, 'close')
  let log = ''
  bridge.stderr.on('data', (chunk) => {
    log += chunk
  })
  try {
    const signal = AbortSignal.timeout(30_000)
    while (!log.includes('bridge running')) await once(bridge.stderr, 'data', { signal })
    const second = await runCli(['--data-dir', dataDir, ...FAST, 'identity', 'list'])
    assert.equal(second.code, EXIT.dataDirLocked)
    assert.equal(
      second.stderr,
      `error: data directory ${dataDir} is in use by another process (is a bridge running?); stop it or choose another --data-dir\n`,
    )
  } finally {
    bridge.kill('SIGTERM')
  }
  const [code] = await exited
  assert.equal(code, 0, log)
  assert.match(log, /"msg":"bridge stopped"/)
})

test('an unexpected error is reported as a bug, with a short message and no stack', async () => {
  const program = createProgram()
  program.command('crash').action(() => {
    throw new TypeError('cannot read properties of undefined')
  })
  program.command('known').action(() => {
    throw new UsageError('bad flag combination')
  })
  let out = ''
  const stderr = {
    write(text: string) {
      out += text
      return true
    },
  }
  assert.equal(await runProgram(program, ['node', 'paranoim', 'crash'], stderr), EXIT.unexpected)
  assert.match(
    out,
    /^error: unexpected failure: cannot read properties of undefined\nThis is a bug in ParanoIM/,
  )
  assert.doesNotMatch(out, /\n\s+at /)
  out = ''
  assert.equal(await runProgram(program, ['node', 'paranoim', 'known'], stderr), EXIT.usage)
  assert.equal(out, 'error: bad flag combination\n')
})

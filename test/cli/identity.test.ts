import assert from 'node:assert/strict'
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { before, describe, test } from 'node:test'
import jsqrModule from 'jsqr'
import { PNG } from 'pngjs'
import { EXIT } from '../../bridge/cli/errors.js'
import { tempDir } from '../store/helpers.js'
import { type CliResult, FAST, runCli } from './run-cli.js'

const PASSWORD = 'correct horse battery'

function ok(result: CliResult): string {
  assert.equal(result.code, 0, `exit ${result.code}: ${result.stderr}`)
  return result.stdout
}

function fails(result: CliResult, code: number, message: RegExp): void {
  assert.equal(result.code, code, `expected exit ${code}, got ${result.code}: ${result.stderr}`)
  assert.match(result.stderr, message)
  assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace')
}

/** The QR code in a PNG, decoded independently of the CLI's own reader. */
function decodePng(bytes: Buffer): string | undefined {
  const image = PNG.sync.read(bytes)
  return jsqrModule.default(new Uint8ClampedArray(image.data), image.width, image.height)?.data
}

const dir = await tempDir('paranoim-cli-')
const passwordFile = join(dir, 'password')
const withPassword = ['--password-file', passwordFile]
const cli = (dataDir: string, ...args: string[]) =>
  runCli(['--data-dir', join(dir, dataDir), ...FAST, ...args])
const cliWithStdin = (input: string, dataDir: string, ...args: string[]) =>
  runCli(['--data-dir', join(dir, dataDir), ...FAST, ...args], input)

describe('identity create → export → import', () => {
  let address: string

  before(async () => {
    await writeFile(passwordFile, `${PASSWORD}\n`)
    const created = ok(await cli('home', 'identity', 'create', '--nickname', 'alice', ...withPassword))
    address = /address: ([a-z2-7]{56})/.exec(created)?.[1] ?? ''
    assert.ok(address, created)
  })

  /** Imports into a fresh data dir and returns that dir's `identity list`. */
  async function importInto(dataDir: string, ...source: string[]): Promise<string> {
    ok(await cli(dataDir, 'identity', 'import', '--nickname', 'restored', ...source, ...withPassword))
    return ok(await cli(dataDir, 'identity', 'list'))
  }

  test('list shows nickname, address and creation time', async () => {
    const list = ok(await cli('home', 'identity', 'list'))
    assert.match(list, /^NICKNAME\s+ADDRESS\s+CREATED\n/)
    assert.match(list, new RegExp(`alice\\s+${address}\\s+\\d{4}-\\d\\d-\\d\\dT`))
  })

  test('the text backup restores the same address; printed or written to a file', async () => {
    const printed = ok(await cli('home', 'identity', 'export', 'alice', '--format', 'text', ...withPassword))
    const out = join(dir, 'backup.txt')
    ok(await cli('home', 'identity', 'export', 'alice', '--format', 'text', '--out', out, ...withPassword))
    assert.equal((await readFile(out, 'utf8')).trimEnd(), printed.trimEnd())
    assert.match(await importInto('from-text', '--text', out), new RegExp(`restored\\s+${address}`))
  })

  test('three QR parts, as PNG images that decode to the payloads, restore the same address', async () => {
    const out = join(dir, 'qr')
    ok(await cli('home', 'identity', 'export', 'alice', '--format', 'qr', '--out', out, ...withPassword))
    const names = (await readdir(out)).sort()
    assert.deepEqual(names, [
      'part-1.png',
      'part-1.txt',
      'part-2.png',
      'part-2.txt',
      'part-3.png',
      'part-3.txt',
    ])
    for (const n of [1, 2, 3]) {
      const payload = (await readFile(join(out, `part-${n}.txt`), 'utf8')).trim()
      assert.equal(decodePng(await readFile(join(out, `part-${n}.png`))), payload)
    }
    const images = [3, 1, 2].map((n) => join(out, `part-${n}.png`))
    assert.match(await importInto('from-qr-png', '--qr', ...images), new RegExp(`restored\\s+${address}`))
    const texts = [2, 3, 1].map((n) => join(out, `part-${n}.txt`))
    assert.match(await importInto('from-qr-text', '--qr', ...texts), new RegExp(`restored\\s+${address}`))
  })

  test('the backup file restores the same address', async () => {
    const out = join(dir, 'alice.backup')
    ok(await cli('home', 'identity', 'export', 'alice', '--format', 'file', '--out', out, ...withPassword))
    assert.match(await importInto('from-file', '--file', out), new RegExp(`restored\\s+${address}`))
    fails(
      await cli('home', 'identity', 'export', 'alice', '--format', 'file', '--out', out, ...withPassword),
      EXIT.file,
      /already exists/,
    )
  })

  test('a wrong password is refused, at export and at import', async () => {
    const wrong = join(dir, 'wrong-password')
    await writeFile(wrong, 'not the password\n')
    fails(
      await cli('home', 'identity', 'export', 'alice', '--password-file', wrong),
      EXIT.wrongPassword,
      /^error: wrong password\n$/,
    )
    const out = join(dir, 'for-wrong-password.backup')
    ok(await cli('home', 'identity', 'export', 'alice', '--format', 'file', '--out', out, ...withPassword))
    fails(
      await cliWithStdin(
        'not the password\n',
        'wrong',
        'identity',
        'import',
        '--nickname',
        'x',
        '--file',
        out,
        '--password-stdin',
      ),
      EXIT.wrongPassword,
      /wrong password/,
    )
  })

  test('a missing QR part is named', async () => {
    const out = join(dir, 'qr-missing')
    ok(await cli('home', 'identity', 'export', 'alice', '--format', 'qr', '--out', out, ...withPassword))
    const parts = [1, 3].map((n) => join(out, `part-${n}.png`))
    fails(
      await cli('missing', 'identity', 'import', '--nickname', 'x', '--qr', ...parts, ...withPassword),
      EXIT.badBackup,
      /part 2 of 3 is missing/,
    )
  })

  test('a mistyped text line is named', async () => {
    const text = ok(await cli('home', 'identity', 'export', 'alice', ...withPassword))
    // Change one data character of line 03.
    const typo = text.replace(/^03 {2}(\S)/m, (_, c: string) => `03  ${c === 'a' ? 'b' : 'a'}`)
    assert.notEqual(typo, text)
    const file = join(dir, 'typo.txt')
    await writeFile(file, typo)
    fails(
      await cli('typo', 'identity', 'import', '--nickname', 'x', '--text', file, ...withPassword),
      EXIT.badBackup,
      /line 3\b/,
    )
  })

  test('an identity already here, or a taken or bad nickname, is refused', async () => {
    const out = join(dir, 'again.backup')
    ok(await cli('home', 'identity', 'export', 'alice', '--format', 'file', '--out', out, ...withPassword))
    fails(
      await cli('home', 'identity', 'import', '--nickname', 'other', '--file', out, ...withPassword),
      EXIT.identity,
      new RegExp(`identity ${address} is already here, as "alice"`),
    )
    fails(
      await cli('home', 'identity', 'create', '--nickname', 'alice', ...withPassword),
      EXIT.identity,
      /nickname "alice" is taken/,
    )
    fails(
      await cli('home', 'identity', 'create', '--nickname', 'Alice', ...withPassword),
      EXIT.identity,
      /a nickname is lowercase/,
    )
  })

  test('no password source and no terminal: says how to give one', async () => {
    fails(
      await cli('home', 'identity', 'export', 'alice'),
      EXIT.usage,
      /no terminal to ask the password on; use --password-file FILE or --password-stdin/,
    )
  })

  test('delete needs --yes, then removes the identity', async () => {
    ok(await cliWithStdin(PASSWORD, 'doomed', 'identity', 'create', '--nickname', 'bob', '--password-stdin'))
    fails(await cli('doomed', 'identity', 'delete', 'bob'), EXIT.usage, /add --yes/)
    ok(await cli('doomed', 'identity', 'delete', 'bob', '--yes'))
    assert.match(ok(await cli('doomed', 'identity', 'list')), /no identities yet/)
    fails(await cli('doomed', 'identity', 'delete', 'bob', '--yes'), EXIT.identity, /no identity "bob" here/)
  })
})

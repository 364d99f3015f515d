import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { EXIT } from '../../bridge/cli/errors.js'
import { openStore } from '../../bridge/store/index.js'
import { Accounts } from '../../bridge/xmpp/accounts.js'
import { FAST, runCli } from '../cli/run-cli.js'
import { tempDir } from '../store/helpers.js'

test('paranoim account passwd replaces the SCRAM credentials of an existing identity only', async () => {
  const dir = await tempDir('paranoim-account-')
  const dataDir = join(dir, 'data')
  const first = join(dir, 'first')
  const second = join(dir, 'second')
  await writeFile(first, 'first password\n')
  await writeFile(second, 'second password\n')
  const cli = (...args: string[]) => runCli(['--data-dir', dataDir, ...FAST, ...args])

  const created = await cli('identity', 'create', '--nickname', 'alice', '--password-file', first)
  assert.equal(created.code, 0, created.stderr)
  const changed = await cli('account', 'passwd', 'alice', '--password-file', second)
  assert.equal(changed.code, 0, changed.stderr)
  assert.match(changed.stdout, /alice@paranoim\.localhost/)
  const missing = await cli('account', 'passwd', 'bob', '--password-file', second)
  assert.equal(missing.code, EXIT.identity)
  assert.match(missing.stderr, /bob/)

  const store = await openStore({ dataDir })
  const accounts = new Accounts(store)
  assert.equal(await accounts.checkPassword('alice', 'first password'), undefined)
  assert.ok(await accounts.checkPassword('alice', 'second password'))
  await store.close()
})

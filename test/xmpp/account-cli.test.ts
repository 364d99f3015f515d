import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { EXIT } from '../../bridge/cli/errors.js'
import { WrongPasswordError } from '../../bridge/crypto/index.js'
import { silentLogger } from '../../bridge/log.js'
import { IdentityService } from '../../bridge/service/identities.js'
import { openStore } from '../../bridge/store/index.js'
import { Accounts } from '../../bridge/xmpp/accounts.js'
import { FAST, runCli } from '../cli/run-cli.js'
import { tempDir } from '../store/helpers.js'

test('paranoim account passwd changes the key, SCRAM and the login-unlock password of an existing identity only', async () => {
  const dir = await tempDir('paranoim-account-')
  const dataDir = join(dir, 'data')
  const first = join(dir, 'first')
  const second = join(dir, 'second')
  await writeFile(first, 'first password\n')
  await writeFile(second, 'second password\n')
  const cli = (...args: string[]) => runCli(['--data-dir', dataDir, ...FAST, ...args])

  const created = await cli('identity', 'create', '--nickname', 'alice', '--password-file', first)
  assert.equal(created.code, 0, created.stderr)
  const wrong = await cli(
    'account',
    'passwd',
    'alice',
    '--current-password-file',
    second,
    '--password-file',
    second,
  )
  assert.equal(wrong.code, EXIT.wrongPassword, wrong.stderr)
  const changed = await cli(
    'account',
    'passwd',
    'alice',
    '--current-password-file',
    first,
    '--password-file',
    second,
  )
  assert.equal(changed.code, 0, changed.stderr)
  assert.match(changed.stdout, /alice@paranoim\.localhost/)
  const missing = await cli(
    'account',
    'passwd',
    'bob',
    '--current-password-file',
    first,
    '--password-file',
    second,
  )
  assert.equal(missing.code, EXIT.identity)
  assert.match(missing.stderr, /bob/)

  const store = await openStore({ dataDir })
  const accounts = new Accounts(store)
  assert.equal(await accounts.checkPassword('alice', 'first password'), undefined)
  const clientKey = await accounts.checkPassword('alice', 'second password')
  assert.ok(clientKey)
  // The key at rest and the login copy follow the new password.
  const identities = new IdentityService({ store, kdf: { logN: 10, r: 8, p: 1 }, log: silentLogger })
  const opened = await identities.open('alice', 'second password')
  const atLogin = await identities.openAtLogin('alice', clientKey)
  assert.deepEqual(atLogin?.publicKey, opened.publicKey)
  await assert.rejects(identities.open('alice', 'first password'), WrongPasswordError)
  await store.close()
})

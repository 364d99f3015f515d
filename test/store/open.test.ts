import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import {
  openStore,
  STORE_SUBDIR,
  StoreCorruptError,
  StoreLockedError,
  StoreOpenError,
} from '../../bridge/store/index.js'
import { tempDir } from './helpers.js'

const holder = fileURLToPath(new URL('./fixtures/hold-store.ts', import.meta.url))

test('the data dir is created private (0700)', async () => {
  const dataDir = join(await tempDir(), 'nested', 'data')
  await (await openStore({ dataDir })).close()
  assert.equal((await stat(dataDir)).mode & 0o777, 0o700)
})

test('a data dir open in another process is a StoreLockedError naming it', async () => {
  const dataDir = join(await tempDir(), 'data')
  const child = spawn(process.execPath, ['--import', 'tsx', holder, dataDir], {
    stdio: ['pipe', 'pipe', 'inherit'],
  })
  const exited = once(child, 'exit')
  try {
    const [line] = await once(child.stdout, 'data')
    assert.equal(String(line).trim(), 'ready')
    await assert.rejects(
      () => openStore({ dataDir }),
      (err: Error) => err instanceof StoreLockedError && err.message.includes(dataDir),
    )
  } finally {
    child.stdin.end()
    await exited
  }
  // Once the other process is gone, the lock is gone.
  await (await openStore({ dataDir })).close()
})

test('damaged database files are a StoreCorruptError naming the dir', async () => {
  const dataDir = join(await tempDir(), 'data')
  await (await openStore({ dataDir })).close()
  await writeFile(join(dataDir, STORE_SUBDIR, 'CURRENT'), 'not a manifest name')
  await assert.rejects(
    () => openStore({ dataDir }),
    (err: Error) => err instanceof StoreCorruptError && err.message.includes(dataDir),
  )
})

test('a data dir that is a file is a StoreOpenError naming it', async () => {
  const dataDir = join(await tempDir(), 'a-file')
  await writeFile(dataDir, '')
  await assert.rejects(
    () => openStore({ dataDir }),
    (err: Error) => err instanceof StoreOpenError && err.message.includes(dataDir),
  )
})

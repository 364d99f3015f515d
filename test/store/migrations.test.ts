import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'
import { z } from 'zod'
import {
  jsonCodec,
  type Migration,
  migrations,
  openMemoryStore,
  openStore,
  StoreSchemaError,
  StoreUsageError,
} from '../../bridge/store/index.js'
import { collect, tempDir } from './helpers.js'

// Schema 1 stored people as "First Last"; schema 2 splits the name.
const v1Person = jsonCodec(z.string())
const v2Person = jsonCodec(z.strictObject({ first: z.string(), last: z.string() }))

let splitRuns = 0
const v1: Migration = { version: 1, description: 'people table', up: async () => [] }
const v2: Migration = {
  version: 2,
  description: 'split names',
  up: async (store) => {
    splitRuns++
    const old = store.table('people', v1Person)
    const now = store.table('people', v2Person)
    const ops = []
    for await (const [key, name] of old.entries()) {
      const [first = '', last = ''] = name.split(' ')
      ops.push(now.putOp(key, { first, last }))
    }
    return ops
  },
}

test('a new store runs every migration and records the latest version', async () => {
  const store = await openMemoryStore()
  assert.equal(store.schemaVersion, migrations.length)
  await store.close()
})

test('pending migrations run once, in order, on the data of the old schema', async () => {
  const dataDir = join(await tempDir(), 'data')
  const old = await openStore({ dataDir, migrations: [v1] })
  assert.equal(old.schemaVersion, 1)
  await old.table('people', v1Person).put('p1', 'Ada Lovelace')
  await old.table('people', v1Person).put('p2', 'Alan Turing')
  await old.close()

  const upgraded = await openStore({ dataDir, migrations: [v1, v2] })
  assert.equal(upgraded.schemaVersion, 2)
  assert.deepEqual(await collect(upgraded.table('people', v2Person).entries()), [
    ['p1', { first: 'Ada', last: 'Lovelace' }],
    ['p2', { first: 'Alan', last: 'Turing' }],
  ])
  await upgraded.close()

  const again = await openStore({ dataDir, migrations: [v1, v2] })
  assert.equal(splitRuns, 1)
  await again.close()
})

test('a failing migration leaves data and version as they were', async () => {
  const dataDir = join(await tempDir(), 'data')
  const old = await openStore({ dataDir, migrations: [v1] })
  await old.table('people', v1Person).put('p1', 'Ada Lovelace')
  await old.close()
  const broken: Migration = {
    version: 2,
    description: 'broken step',
    up: async (store) => {
      await store.table('people', v1Person).get('p1')
      throw new Error('boom')
    },
  }
  await assert.rejects(
    () => openStore({ dataDir, migrations: [v1, broken] }),
    (err: Error) =>
      err instanceof StoreSchemaError && /schema 2 \(broken step\) failed: boom/.test(err.message),
  )
  const after = await openStore({ dataDir, migrations: [v1] })
  assert.equal(after.schemaVersion, 1)
  assert.equal(await after.table('people', v1Person).get('p1'), 'Ada Lovelace')
  await after.close()
})

test('data of a newer schema is refused, naming both versions', async () => {
  const dataDir = join(await tempDir(), 'data')
  await (await openStore({ dataDir, migrations: [v1, v2] })).close()
  await assert.rejects(
    () => openStore({ dataDir, migrations: [v1] }),
    (err: Error) =>
      err instanceof StoreSchemaError && /schema version 2, newer than this program's 1/.test(err.message),
  )
})

test('a migration list with a gap is a programming error', async () => {
  await assert.rejects(() => openMemoryStore({ migrations: [v2] }), StoreUsageError)
})

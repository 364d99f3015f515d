import assert from 'node:assert/strict'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { z } from 'zod'
import {
  bytesSchema,
  jsonCodec,
  openMemoryStore,
  openStore,
  type Store,
  StoreCorruptError,
  StoreUsageError,
} from '../../bridge/store/index.js'
import { collect, tempDir } from './helpers.js'

const note = z.strictObject({ text: z.string(), blob: bytesSchema, n: z.number() })
const noteCodec = jsonCodec(note)
const counterCodec = jsonCodec(z.number())

const providers: [string, () => Promise<Store>][] = [
  ['memory', () => openMemoryStore()],
  ['LevelDB', async () => openStore({ dataDir: join(await tempDir(), 'data') })],
]

for (const [name, open] of providers) {
  describe(`tables on ${name}`, () => {
    test('put, get, has, del round-trip values with bytes inside', async () => {
      const store = await open()
      const notes = store.table('notes', noteCodec)
      const value = { text: 'hi', blob: new Uint8Array([0, 1, 254, 255]), n: 3 }
      await notes.put('a', value)
      assert.deepEqual(await notes.get('a'), value)
      assert.ok((await notes.get('a'))?.blob instanceof Uint8Array)
      assert.equal(await notes.has('a'), true)
      await notes.del('a')
      assert.equal(await notes.get('a'), undefined)
      assert.equal(await notes.has('a'), false)
      await store.close()
    })

    test('tables are separate key spaces', async () => {
      const store = await open()
      await store.table('one', counterCodec).put('k', 1)
      await store.table('two', counterCodec).put('k', 2)
      assert.equal(await store.table('one', counterCodec).get('k'), 1)
      assert.equal(await store.table('two', counterCodec).count(), 1)
      await store.close()
    })

    test('entries and count by prefix and by range, in key order', async () => {
      const store = await open()
      const t = store.table('ordered', counterCodec)
      for (const [i, key] of ['b/2', 'a/1', 'b/1', 'c', 'b/3', 'b'].entries()) await t.put(key, i)
      const keysOf = async (range: Parameters<typeof t.entries>[0]) =>
        (await collect(t.entries(range))).map(([k]) => k)
      assert.deepEqual(await keysOf({ prefix: 'b/' }), ['b/1', 'b/2', 'b/3'])
      assert.deepEqual(await keysOf({ prefix: 'b/', reverse: true, limit: 2 }), ['b/3', 'b/2'])
      assert.deepEqual(await keysOf({ gt: 'a/1', lte: 'b/1' }), ['b', 'b/1'])
      assert.deepEqual(await collect(t.keys()), ['a/1', 'b', 'b/1', 'b/2', 'b/3', 'c'])
      assert.equal(await t.count({ prefix: 'b' }), 4)
      assert.deepEqual(await collect(t.entries({ prefix: 'c' })), [['c', 3]])
      await assert.rejects(() => t.count({ prefix: 'b', lt: 'c' }), StoreUsageError)
      await store.close()
    })

    test('a batch writes across tables all together, or nothing', async () => {
      const store = await open()
      const a = store.table('a', counterCodec)
      const b = store.table('b', counterCodec)
      await a.put('gone', 0)
      await store.batch([a.putOp('x', 1), b.putOp('y', 2), a.delOp('gone')])
      assert.equal(await a.get('x'), 1)
      assert.equal(await b.get('y'), 2)
      assert.equal(await a.has('gone'), false)
      // The invalid last op (no value) makes the whole batch fail before anything is written.
      const bad = { ...b.putOp('z', 3), value: undefined as unknown as Uint8Array }
      await assert.rejects(() => store.batch([a.putOp('x', 10), b.delOp('y'), bad]))
      assert.equal(await a.get('x'), 1)
      assert.equal(await b.get('y'), 2)
      await store.close()
    })

    test('a record the codec refuses is a StoreCorruptError naming table and key', async () => {
      const store = await open()
      await store.table('notes', counterCodec).put('k1', 42)
      await assert.rejects(
        () => store.table('notes', noteCodec).get('k1'),
        (err: Error) => err instanceof StoreCorruptError && /table notes: record "k1"/.test(err.message),
      )
      await store.close()
    })

    test('bad table names and empty keys are refused', async () => {
      const store = await open()
      assert.throws(() => store.table('meta', counterCodec), StoreUsageError)
      assert.throws(() => store.table('Has!Bang', counterCodec), StoreUsageError)
      await assert.rejects(() => store.table('ok', counterCodec).get(''), StoreUsageError)
      await store.close()
    })
  })
}

test('LevelDB data survives a reopen', async () => {
  const dataDir = join(await tempDir(), 'data')
  const first = await openStore({ dataDir })
  await first.table('notes', noteCodec).put('a', { text: 'kept', blob: new Uint8Array([7]), n: 1 })
  await first.close()
  const second = await openStore({ dataDir })
  assert.deepEqual(await second.table('notes', noteCodec).get('a'), {
    text: 'kept',
    blob: new Uint8Array([7]),
    n: 1,
  })
  await second.close()
})

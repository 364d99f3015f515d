import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { NetError } from '../../bridge/net/errors.js'
import { loadNodeKey } from '../../bridge/net/node-key.js'

describe('node key', () => {
  let dir = ''
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  it('is fresh at each start without a file', async () => {
    const a = await loadNodeKey('')
    const b = await loadNodeKey('')
    assert.notDeepEqual(a.publicKey, b.publicKey)
  })

  it('is created once in the configured file (mode 0600) and read back the same', async () => {
    dir = await mkdtemp(join(tmpdir(), 'paranoim-node-key-'))
    const file = join(dir, 'node.key')
    const created = await loadNodeKey(file)
    assert.equal((await stat(file)).mode & 0o777, 0o600)
    assert.match(await readFile(file, 'utf8'), /^[0-9a-f]{64}\n$/)
    const again = await loadNodeKey(file)
    assert.deepEqual(again.publicKey, created.publicKey)
  })

  it('refuses a file that does not hold a seed', async () => {
    const file = join(dir, 'bad.key')
    await writeFile(file, 'not a key\n')
    await assert.rejects(
      loadNodeKey(file),
      (e: unknown) => e instanceof NetError && e.code === 'NODE_KEY_FILE',
    )
  })
})

import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { AddressError } from '../../bridge/crypto/errors.js'
import { encodeAddress, generateIdentity } from '../../bridge/crypto/index.js'
import {
  BindingError,
  BindingsService,
  bindingsFromFile,
  bindingsToFile,
} from '../../bridge/service/bindings.js'
import { openMemoryStore, type Store } from '../../bridge/store/index.js'

const newAddress = () => encodeAddress(generateIdentity().publicKey)

describe('bindings service', () => {
  let store: Store
  let bindings: BindingsService
  const owner = newAddress()
  const other = newAddress()
  const alice = newAddress()
  const bob = newAddress()

  before(async () => {
    store = await openMemoryStore()
    bindings = new BindingsService(store, () => 1000)
  })
  after(() => store.close())

  it('adds one at a time: of two concurrent adds of one name, the second is refused', async () => {
    const results = await Promise.allSettled([
      bindings.add(owner, 'Twin', newAddress()),
      bindings.add(owner, 'Twin', newAddress()),
    ])
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'rejected'],
    )
    await bindings.remove(owner, 'Twin')
  })

  it('adds with a canonical address and keeps each owner’s names apart', async () => {
    const added = await bindings.add(owner, '  Alice  ', ` ${alice.toUpperCase()} `)
    assert.deepEqual(added, { name: 'Alice', address: alice, createdAt: 1000 })
    assert.deepEqual(await bindings.list(other), [])
    assert.equal(await bindings.nameFor(owner, alice), 'Alice')
  })

  it('refuses a taken name, a second name for one address, a bad name and a mistyped address', async () => {
    await assert.rejects(bindings.add(owner, 'Alice', bob), { code: 'BINDING_NAME_EXISTS' })
    await assert.rejects(bindings.add(owner, 'Other', alice), { code: 'BINDING_ADDRESS_EXISTS' })
    await assert.rejects(bindings.add(owner, '   ', bob), { code: 'BINDING_NAME_INVALID' })
    await assert.rejects(bindings.add(owner, 'a\u0007b', bob), { code: 'BINDING_NAME_INVALID' })
    await assert.rejects(bindings.add(owner, 'x'.repeat(65), bob), { code: 'BINDING_NAME_INVALID' })
    await assert.rejects(bindings.add(owner, 'Bob', bob.slice(1)), (err) => {
      assert.ok(err instanceof AddressError)
      assert.equal(err.code, 'ADDRESS_LENGTH')
      return true
    })
  })

  it('renames atomically and removes; unknown names are named in the error', async () => {
    await bindings.rename(owner, 'Alice', 'Ally')
    assert.deepEqual(
      (await bindings.list(owner)).map((b) => b.name),
      ['Ally'],
    )
    await assert.rejects(bindings.rename(owner, 'Alice', 'X'), {
      code: 'BINDING_NOT_FOUND',
      message: /"Alice"/,
    })
    await bindings.remove(owner, 'Ally')
    await assert.rejects(bindings.remove(owner, 'Ally'), BindingError)
    assert.deepEqual(await bindings.list(owner), [])
  })

  it('exports to a file and imports it back, reporting conflicts instead of overwriting', async () => {
    await bindings.add(owner, 'Alice', alice)
    await bindings.add(owner, 'Bob', bob)
    const file = bindingsToFile(await bindings.list(owner))
    assert.deepEqual(await bindings.import(other, bindingsFromFile(file)), {
      added: 2,
      unchanged: 0,
      conflicts: [],
    })
    await bindings.rename(other, 'Bob', 'Robert')
    const again = await bindings.import(other, bindingsFromFile(file))
    assert.equal(again.added, 0)
    assert.equal(again.unchanged, 1)
    assert.deepEqual(
      again.conflicts.map((c) => [c.name, c.reason]),
      [['Bob', 'this address is already named "Robert"']],
    )
  })

  it('tells listeners which owner changed, until they unsubscribe', async () => {
    const seen: string[] = []
    const unsubscribe = bindings.onChange((o) => seen.push(o))
    const carol = newAddress()
    await bindings.add(owner, 'Carol', carol)
    await bindings.rename(owner, 'Carol', 'Caro')
    await bindings.remove(owner, 'Caro')
    await assert.rejects(bindings.remove(owner, 'Caro'))
    await bindings.import(other, [{ name: 'Alice', address: alice }])
    unsubscribe()
    await bindings.add(owner, 'Carol', carol)
    assert.deepEqual(seen, [owner, owner, owner, other])
  })

  it('refuses a file that is not a bindings export, saying where', () => {
    assert.throws(() => bindingsFromFile('not json'), { code: 'BINDING_FILE_FORMAT' })
    assert.throws(
      () => bindingsFromFile('{"format":"paranoim-bindings","version":2,"bindings":[]}'),
      /version/,
    )
    assert.throws(
      () =>
        bindingsFromFile('{"format":"paranoim-bindings","version":1,"bindings":[{"name":1,"address":"x"}]}'),
      /bindings\.0\.name/,
    )
  })
})

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { encodeAddress, WrongPasswordError } from '../../bridge/crypto/index.js'
import { silentLogger } from '../../bridge/log.js'
import { IdentityError } from '../../bridge/service/errors.js'
import { IdentityService, sealedKeyFromBackup } from '../../bridge/service/identities.js'
import { nicknameProblem } from '../../bridge/service/identity-rules.js'
import { openMemoryStore } from '../../bridge/store/index.js'
import { Accounts, credentialsTable } from '../../bridge/xmpp/accounts.js'

const KDF = { logN: 10, r: 8, p: 1 }
const PASSWORD = 'long enough password'

async function service() {
  const store = await openMemoryStore()
  return {
    store,
    identities: new IdentityService({ store, kdf: KDF, log: silentLogger, now: () => 1_700_000_000_000 }),
  }
}

const isIdentityError = (code: string) => (err: unknown) => err instanceof IdentityError && err.code === code

test('nickname rules follow the XMPP localpart contract', () => {
  for (const good of ['a', 'alice', 'a.b_c-d', '0day', 'x'.repeat(32)])
    assert.equal(nicknameProblem(good), null, good)
  for (const bad of ['', 'Alice', '-a', '.a', 'a b', 'a@b', 'ä', 'x'.repeat(33)])
    assert.ok(nicknameProblem(bad), bad)
})

test('create stores a sealed key and the XMPP credentials; list shows it', async () => {
  const { store, identities } = await service()
  const alice = await identities.create('alice', PASSWORD)
  assert.match(alice.address, /^[a-z2-7]{56}$/)
  assert.deepEqual(await identities.list(), [alice])
  assert.deepEqual(await identities.get('alice'), alice)
  assert.ok(await credentialsTable(store).get('alice'))
  await store.close()
})

test('two concurrent creates cannot take the same nickname', async () => {
  const { store, identities } = await service()
  const results = await Promise.allSettled([
    identities.create('bob', PASSWORD),
    identities.create('bob', PASSWORD),
  ])
  assert.deepEqual(results.map((r) => r.status).sort(), ['fulfilled', 'rejected'])
  const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult
  assert.ok(isIdentityError('IDENTITY_NICKNAME_TAKEN')(rejected.reason))
  assert.equal((await identities.list()).length, 1)
  await store.close()
})

test('bad input is refused before any work', async () => {
  const { store, identities } = await service()
  await assert.rejects(
    () => identities.create('Bad Name', PASSWORD),
    isIdentityError('IDENTITY_NICKNAME_INVALID'),
  )
  await assert.rejects(
    () => identities.create('carol', 'short'),
    isIdentityError('IDENTITY_PASSWORD_TOO_SHORT'),
  )
  await assert.rejects(
    () => identities.importSealedKey('carol', new Uint8Array(10), PASSWORD),
    (err: Error) => err.name === 'KeyBlobError',
  )
  await assert.rejects(() => identities.get('nobody'), isIdentityError('IDENTITY_NOT_FOUND'))
  await store.close()
})

test('export needs the right password; import restores the same address elsewhere', async () => {
  const home = await service()
  const alice = await home.identities.create('alice', PASSWORD)
  await assert.rejects(
    () => home.identities.exportBackup('alice', 'wrong password', 'text'),
    WrongPasswordError,
  )
  const away = await service()
  for (const format of ['text', 'qr', 'file'] as const) {
    const backup = await home.identities.exportBackup('alice', PASSWORD, format)
    assert.equal(backup.format, format)
    const restored = await away.identities.importSealedKey(
      `alice-${format}`,
      sealedKeyFromBackup(backup),
      PASSWORD,
    )
    assert.equal(restored.address, alice.address)
    await away.identities.delete(`alice-${format}`, { confirmed: true })
  }
  const sealedKey = sealedKeyFromBackup(await home.identities.exportBackup('alice', PASSWORD, 'file'))
  await assert.rejects(
    () => away.identities.importSealedKey('x', sealedKey, 'wrong password'),
    WrongPasswordError,
  )
  await assert.rejects(
    () => home.identities.importSealedKey('x', sealedKey, PASSWORD),
    isIdentityError('IDENTITY_EXISTS'),
  )
  await home.store.close()
  await away.store.close()
})

test('delete needs confirmation and removes the XMPP account with the identity', async () => {
  const { store, identities } = await service()
  await identities.create('dave', PASSWORD)
  await assert.rejects(
    () => identities.delete('dave', { confirmed: false }),
    isIdentityError('IDENTITY_NOT_CONFIRMED'),
  )
  await identities.delete('dave', { confirmed: true })
  assert.deepEqual(await identities.list(), [])
  assert.equal(await credentialsTable(store).get('dave'), undefined)
  await store.close()
})

test('a Jabber login opens the identity: SCRAM-SHA-256 and SCRAM-SHA-1 ClientKeys, nothing else', async () => {
  const { store, identities } = await service()
  const alice = await identities.create('alice', PASSWORD)
  const keys = await new Accounts(store).clientKeys('alice', PASSWORD)
  assert.ok(keys)
  for (const hash of ['SHA-256', 'SHA-1'] as const) {
    const opened = await identities.openAtLogin('alice', keys[hash])
    assert.equal(opened && encodeAddress(opened.publicKey), alice.address, hash)
  }
  const wrong = await new Accounts(store).clientKeys('alice', 'not the password')
  assert.equal(wrong, undefined)
  assert.equal(await identities.openAtLogin('alice', new Uint8Array(32).fill(7)), undefined)
  assert.equal(await identities.openAtLogin('alice', new Uint8Array(20).fill(7)), undefined)
  // A deleted identity leaves no copy behind.
  await identities.delete('alice', { confirmed: true })
  assert.equal(await identities.openAtLogin('alice', keys['SHA-256']), undefined)
  await store.close()
})

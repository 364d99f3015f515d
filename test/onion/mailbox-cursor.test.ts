import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { type MailboxConfig, mailboxSection } from '../../bridge/config/sections/mailbox.js'
import { DOMAIN } from '../../bridge/crypto/domains.js'
import { identityFromSeed } from '../../bridge/crypto/identity.js'
import { signWithDomain } from '../../bridge/crypto/sign.js'
import { mintStamp } from '../../bridge/crypto/stamp.js'
import { silentLogger } from '../../bridge/log.js'
import { mailboxIdOf } from '../../bridge/onion/mailbox-address.js'
import { MailboxHolder } from '../../bridge/onion/mailbox-holder.js'
import { openStore } from '../../bridge/store/index.js'
import { MailboxStatus } from '../../bridge/wire/mailbox.js'
import { tempDir } from '../store/helpers.js'

const config: MailboxConfig = { ...mailboxSection.parse({}), stampDifficulty: 2, fetchBatch: 2 }
const NOW = 1_764_650_000_000

/** One mailbox at a holder in LevelDB, deposited and fetched directly (the network path: mailbox.test.ts). */
async function holderAt(dataDir: string, now = () => NOW) {
  const store = await openStore({ dataDir })
  const holder = new MailboxHolder({ store, config, log: silentLogger, now })
  return { store, holder }
}

const owner = identityFromSeed(new Uint8Array(32).fill(7))
const mailboxId = mailboxIdOf(owner.publicKey)
const expiry = Math.floor(NOW / 1000) + 3600

async function deposit(holder: MailboxHolder, fill: number) {
  const item = new Uint8Array(100).fill(fill)
  const stamp = mintStamp({ mailboxId, item, expiry }, config.stampDifficulty)
  assert.equal((await holder.deposit({ mailboxId, expiry, stamp, item })).status, MailboxStatus.ok)
}

/** Every page of a fetch (from `from`, or without cursor): the items' first bytes and the first page's next. */
async function fetch(holder: MailboxHolder, from?: number) {
  const items: number[] = []
  let next: number | undefined
  for (;;) {
    const binding = randomBytes(32)
    const signature = signWithDomain(owner.seed, DOMAIN.mailboxFetch, binding)
    const cursor = from === undefined ? {} : { from }
    const answer = await holder.fetch(
      { mailboxKey: owner.publicKey, signature, skip: items.length, ...cursor },
      binding,
    )
    assert.equal(answer.result.status, MailboxStatus.ok)
    next ??= answer.result.next
    items.push(...answer.items.map((i) => i.item[0]!))
    if (answer.result.more === 0) return { items, next }
  }
}

describe('mailbox holder: FETCH cursors (docs/protocol.md "Mailboxes" → "Cursors")', () => {
  it('sends only what it stored at or after `from`, pages through those, and says where to go on', async () => {
    const { store, holder } = await holderAt(await tempDir())
    for (const i of [1, 2, 3]) await deposit(holder, i)
    const first = await fetch(holder, 0)
    assert.deepEqual(first.items, [1, 2, 3])
    assert.equal(typeof first.next, 'number')
    assert.deepEqual(await fetch(holder, first.next), { items: [], next: first.next })
    for (const i of [4, 5, 6]) await deposit(holder, i)
    const second = await fetch(holder, first.next)
    assert.deepEqual(second.items, [4, 5, 6])
    assert.equal(second.next, first.next! + 3)
    // Without cursor: everything, and no next (the 7-byte RESULT of before).
    assert.deepEqual(await fetch(holder), { items: [1, 2, 3, 4, 5, 6], next: undefined })
    await store.close()
  })

  it('the sequence survives a restart, and a new store starts at the clock, past any older cursor', async () => {
    const dir = await tempDir()
    let { store, holder } = await holderAt(dir)
    await deposit(holder, 1)
    const { next } = await fetch(holder, 0)
    assert.ok(next! > NOW, `a new store starts at the clock (ms): ${next}`)
    await store.close()
    ;({ store, holder } = await holderAt(dir, () => NOW - 60_000))
    assert.deepEqual(
      await fetch(holder, next),
      { items: [], next },
      'the clock went back; the sequence did not',
    )
    await deposit(holder, 2)
    assert.deepEqual((await fetch(holder, next)).items, [2])
    await store.close()
    // The store wiped (a new one), the clock later: an old cursor passes over nothing new.
    ;({ store, holder } = await holderAt(await tempDir(), () => NOW + 60_000))
    await deposit(holder, 3)
    assert.deepEqual((await fetch(holder, next)).items, [3])
    await store.close()
  })
})

import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { CryptoError } from '../../bridge/crypto/errors.js'
import { checkStamp, mintStamp } from '../../bridge/crypto/stamp.js'
import { StampPool } from '../../bridge/crypto/stamp-pool.js'

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')
const unhex = (text: string) => new Uint8Array(Buffer.from(text, 'hex'))

/** The vector of docs/protocol.md "Mailboxes" → "Stamps". */
const VECTOR = {
  subject: {
    mailboxId: unhex('a432b8613cdd060bb9da1d20d05c24ac24a29c6d'),
    item: new Uint8Array(959).fill(0x2a),
    expiry: 1_800_000_000,
  },
  difficulty: 8,
  stamp: '0000000000000268',
}

describe('stamps minted on worker threads', () => {
  const pool = new StampPool({ workers: 2 })
  after(() => pool.stop())

  it('finds the protocol vector’s nonce, the very one mintStamp finds from the same start', async () => {
    const { subject, difficulty } = VECTOR
    assert.equal(hex(await pool.mint(subject, difficulty, 0n)), VECTOR.stamp)
    for (const start of [1n, 0xfffffffffffffff0n]) {
      const nonce = await pool.mint(subject, difficulty, start)
      assert.equal(hex(nonce), hex(mintStamp(subject, difficulty, undefined, start)))
    }
  })

  it('mints many side by side, each a valid stamp, while the event loop stays free', async () => {
    const subjects = Array.from({ length: 8 }, (_, i) => ({ ...VECTOR.subject, expiry: 1_800_000_000 + i }))
    let ticks = 0
    const ticker = setInterval(() => ticks++, 5)
    const nonces = await Promise.all(subjects.map((s) => pool.mint(s, 12)))
    clearInterval(ticker)
    for (const [i, nonce] of nonces.entries()) assert.ok(checkStamp(subjects[i]!, nonce, 12))
    assert.ok(ticks > 0, 'timers ran while the workers hashed')
  })

  it('refuses work once stopped, and rejects what was still queued', async () => {
    const other = new StampPool({ workers: 1 })
    const queued = Array.from({ length: 3 }, (_, i) => other.mint({ ...VECTOR.subject, expiry: i + 1 }, 20))
    const outcomes = Promise.allSettled(queued)
    await other.stop()
    const settled = await outcomes
    assert.ok(settled.every((s) => s.status === 'rejected' && s.reason instanceof CryptoError))
    await assert.rejects(other.mint(VECTOR.subject, 8), /stopped/)
    assert.throws(() => new StampPool({ workers: 0 }), CryptoError)
  })
})

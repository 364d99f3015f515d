import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { ReplayWindow } from '../../bridge/net/replay-window.js'

describe('ReplayWindow', () => {
  it('accepts each counter once, refuses those older than the window', () => {
    const w = new ReplayWindow(64)
    assert.equal(w.size, 64)
    for (const c of [0, 1, 5, 3]) {
      assert.ok(w.accepts(c))
      w.record(c)
      assert.ok(!w.accepts(c))
    }
    assert.ok(w.accepts(2))
    w.record(1000)
    assert.ok(!w.accepts(1000 - 64), 'just outside the window')
    assert.ok(w.accepts(1000 - 63), 'the oldest counter still inside')
    assert.ok(!w.accepts(5))
  })

  it('agrees with a model (every counter seen, window of size) on random sequences', () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat(5000), { maxLength: 400 }),
        fc.constantFrom(64, 128, 1024),
        (counters, size) => {
          const w = new ReplayWindow(size)
          const seen = new Set<number>()
          let highest = -1
          for (const c of counters) {
            const expected = !seen.has(c) && (c > highest || highest - c < size)
            assert.equal(w.accepts(c), expected, `counter ${c}, highest ${highest}`)
            if (expected) {
              w.record(c)
              seen.add(c)
              highest = Math.max(highest, c)
            }
          }
        },
      ),
    )
  })
})

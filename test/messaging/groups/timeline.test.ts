import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { OpenedGroupMessage } from '../../../bridge/messaging/groups/session.js'
import { GroupTimeline } from '../../../bridge/messaging/groups/timeline.js'
import { clock } from './helpers.js'

const message = (sender: number, timestamp: number): OpenedGroupMessage => ({
  group: new Uint8Array(32),
  sender: new Uint8Array(32).fill(sender),
  id: new Uint8Array(16).fill(timestamp & 0xff),
  timestamp,
  epoch: 1,
  mode: 'normal',
  body: { kind: 'subject', subject: String(timestamp) },
})

const order = (entries: { message: OpenedGroupMessage; late: boolean }[]) =>
  entries.map((e) => `${e.message.timestamp}${e.late ? ' late' : ''}`)

describe('group timeline (presentation order)', () => {
  it('messages that crossed on the way come out in timestamp order after the hold', () => {
    const { now, advance } = clock(10_000)
    const timeline = new GroupTimeline(2000, now)
    timeline.add(message(1, 9_500))
    advance(500)
    timeline.add(message(2, 9_400))
    timeline.add(message(3, 9_400))
    assert.deepEqual(timeline.release(), [])
    assert.equal(timeline.nextDue(), 12_000)
    advance(1500)
    // The first one is due; the earlier ones that arrived after it go with it, before it.
    assert.deepEqual(order(timeline.release()), ['9400', '9400', '9500'])
    assert.equal(timeline.size, 0)
  })

  it('a message older than one already shown comes out at once, flagged late', () => {
    const { now, advance } = clock(10_000)
    const timeline = new GroupTimeline(2000, now)
    timeline.add(message(1, 9_900))
    advance(2000)
    assert.deepEqual(order(timeline.release()), ['9900'])
    timeline.add(message(2, 9_000))
    timeline.add(message(2, 11_990))
    assert.deepEqual(order(timeline.release()), ['9000 late'])
    advance(2000)
    assert.deepEqual(order(timeline.release()), ['11990'])
  })
})

import assert from 'node:assert/strict'
import { it } from 'node:test'
import { isOnline } from '../../../bridge/messaging/groups/fanout.js'
import { GroupPresence } from '../../../bridge/messaging/groups/presence.js'

const member = (n: number) => new Uint8Array(32).fill(n)

it('online = heard within the timeout; never heard = online for the first timeout after start', () => {
  let now = 1000
  const presence = new GroupPresence(60_000, () => now)
  assert.ok(presence.isOnline(member(1)), 'unknown, just started: optimistic')
  presence.heard(member(2))
  now += 60_001
  assert.ok(!presence.isOnline(member(1)), 'unknown after the grace period: offline')
  assert.ok(!presence.isOnline(member(2)), 'silent for longer than the timeout')
  presence.heard(member(2))
  presence.heard(member(2), now - 120_000) // an old sighting does not move the clock back
  assert.ok(presence.isOnline(member(2)))
  presence.gone(member(2))
  assert.ok(!presence.isOnline(member(2)), 'a seen leave counts at once')
  presence.heard(member(2))
  assert.ok(presence.isOnline(member(2)), 'until heard again')
})

it('builds the bitmap over the member list, leaving out the sender', () => {
  const presence = new GroupPresence(60_000, () => 0)
  const members = [1, 2, 3, 4, 5, 6, 7, 8, 9].map(member)
  presence.gone(member(4))
  const bitmap = presence.bitmap(members, 0)
  assert.equal(bitmap.length, 2)
  assert.deepEqual(
    members.map((_, i) => isOnline(bitmap, i)),
    [false, true, true, false, true, true, true, true, true],
  )
})

it('forgets members that left the group', () => {
  let now = 1500
  const presence = new GroupPresence(1000, () => now)
  presence.heard(member(1))
  presence.heard(member(2))
  now = 2000
  assert.ok(presence.isOnline(member(1)))
  presence.heard(member(2))
  presence.retain([member(2)])
  now = 2600
  assert.ok(!presence.isOnline(member(1)), 'forgotten: like never heard, and past the grace period')
  assert.ok(presence.isOnline(member(2)))
})

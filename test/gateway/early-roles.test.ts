import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { EarlyRoles } from '../../bridge/gateway/groups/early-roles.js'
import type { OpenedGroupMessage } from '../../bridge/messaging/groups/session.js'
import type { OccupantRole } from '../../bridge/wire/group-message.js'

const group = randomBytes(32)
const roleBody = (target: Uint8Array, role: OccupantRole): OpenedGroupMessage => ({
  group,
  sender: randomBytes(32),
  id: randomBytes(16),
  timestamp: 0,
  epoch: 1,
  mode: 'normal',
  body: { kind: 'role', target, role },
})

describe("early roles: a role body waits for its target's join (groups.earlyRoleMs)", () => {
  it('the latest body per occupant is taken once, within the wait', () => {
    let clock = 0
    const early = new EarlyRoles(30_000, () => clock)
    const bob = randomBytes(32)
    early.hold(roleBody(bob, 'visitor'), bob)
    const latest = roleBody(bob, 'moderator')
    early.hold(latest, bob)
    clock = 30_000
    assert.equal(early.take(group, bob), latest)
    assert.equal(early.take(group, bob), undefined, 'taken once')
    assert.equal(early.take(randomBytes(32), bob), undefined, 'another group')
  })

  it('a body past the wait is dropped', () => {
    let clock = 0
    const early = new EarlyRoles(30_000, () => clock)
    const bob = randomBytes(32)
    early.hold(roleBody(bob, 'visitor'), bob)
    clock = 30_001
    assert.equal(early.take(group, bob), undefined)
  })
})

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { AdmissionLimits, admissionVerdict } from '../../bridge/gateway/groups/admission.js'
import { admittersOf } from '../../bridge/gateway/groups/room-records.js'
import type { GroupState } from '../../bridge/messaging/groups/state.js'
import type { Affiliation } from '../../bridge/wire/group-update.js'

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const key = (n: number) => new Uint8Array(32).fill(n)

/** A state with these members (address byte → affiliation); a unit test of the rules, the real chain is in test/messaging/groups/. */
function state(
  members: Record<number, Affiliation>,
  options: { membersOnly?: boolean; maxMembers?: number; banned?: number[] } = {},
): GroupState {
  return {
    group: key(0xee),
    version: 3,
    epoch: 1,
    hash: key(0),
    config: {
      name: 'n',
      description: '',
      membersOnly: options.membersOnly ?? false,
      mode: 'normal',
      maxMembers: options.maxMembers ?? 1000,
    },
    members: new Map(
      Object.entries(members).map(([n, affiliation]) => [
        hex(key(Number(n))),
        { address: key(Number(n)), affiliation, nick: `m${n}` },
      ]),
    ),
    banned: new Set((options.banned ?? []).map((n) => hex(key(n)))),
  }
}

describe('the open room door: rules, rates, the record’s addresses', () => {
  it('refuses in order: not an admitter, banned, (a member gets its chain), members-only, full', () => {
    const open = state({ 1: 'owner', 2: 'admin', 3: 'member' }, { banned: [9] })
    assert.deepEqual(admissionVerdict(undefined, key(1), key(5), 1000), { refuse: 'not-admitting' })
    assert.deepEqual(admissionVerdict(open, key(3), key(5), 1000), { refuse: 'not-admitting' })
    assert.deepEqual(admissionVerdict(open, key(4), key(5), 1000), { refuse: 'not-admitting' })
    assert.deepEqual(admissionVerdict(open, key(2), key(9), 1000), { refuse: 'banned' })
    assert.deepEqual(admissionVerdict(open, key(1), key(3), 1000), { admit: 'member' })
    assert.deepEqual(admissionVerdict(open, key(2), key(5), 1000), { admit: 'new' })
    const closed = state({ 1: 'owner' }, { membersOnly: true, banned: [9] })
    assert.deepEqual(admissionVerdict(closed, key(1), key(9), 1000), { refuse: 'banned' })
    assert.deepEqual(admissionVerdict(closed, key(1), key(5), 1000), { refuse: 'members-only' })
    // Full by the group's own limit, and by the local one.
    assert.deepEqual(
      admissionVerdict(state({ 1: 'owner', 2: 'member' }, { maxMembers: 2 }), key(1), key(5), 1000),
      {
        refuse: 'full',
      },
    )
    assert.deepEqual(admissionVerdict(open, key(1), key(5), 3), { refuse: 'full' })
  })

  it('admits joinsPerMinute per group, refills over the minute; refusals have their own bound', () => {
    let now = 0
    const limits = new AdmissionLimits({ joinsPerMinute: 2, joinRefusalsPerMinute: 3 }, () => now)
    assert.deepEqual([limits.admit(key(1)), limits.admit(key(1)), limits.admit(key(1))], [true, true, false])
    assert.ok(limits.admit(key(2)), 'another group has its own bucket')
    now += 30_000
    assert.ok(limits.admit(key(1)), 'half a minute refills one')
    assert.ok(!limits.admit(key(1)))
    assert.deepEqual(
      [1, 2, 3, 4].map(() => limits.refuse()),
      [true, true, true, false],
    )
    now += 20_000
    assert.ok(limits.refuse())
  })

  it('the record names the publisher, then the other owners, then the admins, at most the cap', () => {
    const s = state({ 5: 'admin', 4: 'owner', 1: 'owner', 2: 'member', 3: 'admin' })
    assert.deepEqual(
      admittersOf(s, key(4), 16).map((a) => a[0]),
      [4, 1, 3, 5],
    )
    assert.deepEqual(
      admittersOf(s, key(4), 2).map((a) => a[0]),
      [4, 1],
    )
  })
})

import assert from 'node:assert/strict'
import { beforeEach, describe, it } from 'node:test'
import { GatewayError } from '../../bridge/gateway/errors.js'
import { type FakeBridge, FakeNetwork } from './groups-helpers.js'

const NORMAL = { name: 'Team', description: '', membersOnly: true, mode: 'normal' as const }
const HIGH = { ...NORMAL, mode: 'high' as const }
/** Three members at most in high mode. */
const CAP = { highModeMaxMembers: 3 }

const tooLarge = (err: unknown) =>
  err instanceof GatewayError &&
  err.condition === 'not-acceptable' &&
  /high mode|high-mode/.test(err.message) &&
  err.message.includes('groups.highModeMaxMembers')

describe('group gateway: groups.highModeMaxMembers (one sealed copy per member per message)', () => {
  let net: FakeNetwork
  let alice: FakeBridge
  let others: FakeBridge[]

  beforeEach(async () => {
    net = new FakeNetwork()
    alice = await net.add('alice', CAP)
    others = [await net.add('bob', CAP), await net.add('carol', CAP), await net.add('dave', CAP)]
  })

  const invite = (room: string, bridge: FakeBridge) =>
    alice.propose({ type: 'invite', room, invitee: bridge.jid })

  it('a high-mode group takes members up to the cap; one more is refused not-acceptable, saying why', async () => {
    await alice.propose({ type: 'create', room: 'secret', nick: 'Alice', config: HIGH })
    await invite('secret', others[0]!)
    await invite('secret', others[1]!)
    await assert.rejects(invite('secret', others[2]!), tooLarge)
    assert.equal(alice.groups.rooms.groupOf('secret') !== undefined, true)
    await net.quiet()
    assert.equal(others[2]!.calls.length, 0, 'dave was never told')
  })

  it('a group above the cap cannot switch to high mode; at the cap it can, and a kick then still works', async () => {
    await alice.propose({ type: 'create', room: 'team', nick: 'Alice', config: NORMAL })
    for (const bridge of others) await invite('team', bridge)
    await assert.rejects(alice.propose({ type: 'configure', room: 'team', config: HIGH }), tooLarge)
    await alice.propose({ type: 'affiliation', room: 'team', target: others[2]!.jid, affiliation: 'none' })
    await alice.propose({ type: 'configure', room: 'team', config: HIGH })
    await alice.propose({ type: 'affiliation', room: 'team', target: others[1]!.jid, affiliation: 'none' })
  })
})

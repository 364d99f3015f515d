import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { concatBytes } from '@noble/hashes/utils.js'
import { identityFromSeed } from '../../../bridge/crypto/identity.js'
import { nativeBackend } from '../../../bridge/crypto/native.js'
import { applyUpdate, type StateChange, signUpdate } from '../../../bridge/messaging/groups/state.js'
import { GroupWireError } from '../../../bridge/wire/group-bytes.js'
import { decodeUpdate, encodeUpdate, GROUP_LIMITS, type GroupOp } from '../../../bridge/wire/group-update.js'
import { backends, hex, toHex } from '../../crypto/helpers.js'
import { groupError } from './helpers.js'
import { groupVectors, INPUTS } from './vectors.js'

const protocol = readFileSync(new URL('../../../docs/protocol.md', import.meta.url), 'utf8')
const options = { maxMembers: 1000, backend: nativeBackend }

/** docs/protocol.md "Groups" → "Reasons", whitespace removed so wrapped hex reads as one string. */
function subsection(): string {
  const start = protocol.indexOf('\n### Reasons\n')
  assert.ok(start >= 0, 'docs/protocol.md lacks "### Reasons"')
  return protocol.slice(start, protocol.indexOf('\n##', start + 1)).replace(/\s+/g, '')
}

/** State 1 of the "Groups" vectors (alice owner, bob member) and update 2 signed by alice with `ops`. */
function afterGenesis(ops: GroupOp[], backend = nativeBackend) {
  const owner = identityFromSeed(hex(INPUTS.ownerSeed), backend)
  const member = identityFromSeed(hex(INPUTS.memberSeed), backend)
  const s1 = (
    applyUpdate(undefined, hex(groupVectors(backend).genesis!), { ...options, backend }) as StateChange
  ).state
  const update = (more: GroupOp[]) =>
    signUpdate(
      owner.seed,
      { group: s1.group, version: 2, epoch: 2, prevHash: s1.hash, signer: owner.publicKey, ops: more },
      backend,
    )
  return { s1, member, update: update(ops), sign: update }
}

const kick = (member: { publicKey: Uint8Array }): GroupOp => ({ op: 'remove', address: member.publicKey })

describe('the reason op (docs/protocol.md "Groups" → "Reasons")', () => {
  for (const backend of backends)
    it(`${backend.name}: the vector is in the document verbatim and decodes to its ops`, () => {
      const member = identityFromSeed(hex(INPUTS.memberSeed), backend)
      const { update } = afterGenesis([kick(member), { op: 'reason', reason: 'too loud' }], backend)
      assert.ok(subsection().includes(toHex(update)), `"Reasons" lacks ${toHex(update)}`)
      assert.deepEqual(decodeUpdate(update).ops[1], { op: 'reason', reason: 'too loud' })
      assert.deepEqual(encodeUpdate(decodeUpdate(update)), update)
    })

  it('the change carries the reason and the state is that of the same update without it', () => {
    const { s1, member, sign } = afterGenesis([])
    const withReason = applyUpdate(s1, sign([kick(member), { op: 'reason', reason: 'too loud' }]), options)
    const without = applyUpdate(s1, sign([kick(member)]), options)
    assert.ok(withReason !== 'duplicate' && without !== 'duplicate')
    assert.equal(withReason.reason, 'too loud')
    assert.equal(without.reason, '')
    assert.deepEqual([...withReason.state.members.keys()], [...without.state.members.keys()])
    assert.deepEqual(withReason.removed, without.removed)
  })

  it('refused: a reason alone, two reasons, an empty one, one over the limit', () => {
    const { s1, member, sign } = afterGenesis([])
    const reason = (text: string): GroupOp => ({ op: 'reason', reason: text })
    assert.throws(() => applyUpdate(s1, sign([reason('why')]), options), groupError('STATE_INVALID'))
    assert.throws(
      () => applyUpdate(s1, sign([kick(member), reason('a'), reason('b')]), options),
      groupError('STATE_INVALID'),
    )
    assert.throws(() => sign([kick(member), reason('')]), GroupWireError)
    assert.throws(() => sign([kick(member), reason('x'.repeat(GROUP_LIMITS.reason + 1))]), GroupWireError)
    // An empty reason made by hand (length 0) is refused by the decoder.
    const good = sign([kick(member), reason('x')])
    const at = good.length - 64 - 3 // len (2) ‖ "x", before the signature
    const bad = concatBytes(good.subarray(0, at), Uint8Array.of(0, 0), good.subarray(at + 3))
    assert.throws(
      () => decodeUpdate(bad),
      (err) => err instanceof GroupWireError && /empty reason/.test(err.message),
    )
  })
})

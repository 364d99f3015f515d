import type { CryptoBackend } from '../../../bridge/crypto/backend.js'
import { identityFromSeed } from '../../../bridge/crypto/identity.js'
import {
  applyUpdates,
  type StateChange,
  signUpdate,
  toSnapshot,
} from '../../../bridge/messaging/groups/state.js'
import { encodeGroupBody } from '../../../bridge/wire/group-message.js'
import { encodeSnapshot } from '../../../bridge/wire/group-state.js'
import { hex, toHex } from '../../crypto/helpers.js'
import { groupVectors, INPUTS } from './vectors.js'

/** The destroy's reason and alternate venue in docs/protocol.md "Room control vectors". */
export const DESTROY = { reason: 'moved', alternate: 'next@conference.paranoim.localhost' }

/**
 * docs/protocol.md "Groups" → "Room control vectors", computed with `backend`:
 * on state 2 of "Vectors", alice destroys the group (update 3, epoch 2), and a
 * role body makes bob a visitor.
 */
export function roomControlVectors(backend: CryptoBackend): Record<string, string> {
  const base = groupVectors(backend)
  const group = identityFromSeed(hex(INPUTS.groupSeed), backend)
  const owner = identityFromSeed(hex(INPUTS.ownerSeed), backend)
  const member = identityFromSeed(hex(INPUTS.memberSeed), backend)
  const options = { maxMembers: 1000, backend }
  const [, s2] = applyUpdates(undefined, [hex(base.genesis!), hex(base.kick!)], options) as StateChange[]
  const destroy = signUpdate(
    owner.seed,
    {
      group: group.publicKey,
      version: 3,
      epoch: 2,
      prevHash: s2!.state.hash,
      signer: owner.publicKey,
      ops: [{ op: 'destroy', ...DESTROY }],
    },
    backend,
  )
  const [s3] = applyUpdates(s2!.state, [destroy], options)
  return {
    destroy: toHex(destroy),
    snapshot: toHex(encodeSnapshot(toSnapshot(s3!.state))),
    role: toHex(encodeGroupBody({ kind: 'role', target: member.publicKey, role: 'visitor' })),
  }
}

import type { CryptoBackend } from '../../../bridge/crypto/backend.js'
import { identityFromSeed } from '../../../bridge/crypto/identity.js'
import { sealGroupSeed } from '../../../bridge/messaging/groups/group-key.js'
import {
  groupMailboxIdentity,
  groupMailboxItemKey,
  messageKey,
} from '../../../bridge/messaging/groups/keys.js'
import { sealHigh, sealMailboxItem, sealNormal } from '../../../bridge/messaging/groups/message.js'
import {
  applyUpdate,
  type StateChange,
  signUpdate,
  toSnapshot,
} from '../../../bridge/messaging/groups/state.js'
import { encodeGroupControl } from '../../../bridge/wire/group-control.js'
import { encodeGroupBody, encodeKeyPackage, type KeyPackage } from '../../../bridge/wire/group-message.js'
import { encodeSnapshot } from '../../../bridge/wire/group-state.js'
import { ZERO_HASH } from '../../../bridge/wire/group-update.js'
import { hex, toHex } from '../../crypto/helpers.js'

/** The inputs of docs/protocol.md "Groups" → "Vectors". */
export const INPUTS = {
  groupSeed: '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f',
  ownerSeed: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
  memberSeed: '202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f',
  epochKey: '11'.repeat(32),
  mailboxSeed: '22'.repeat(32),
  messageId: '33'.repeat(16),
  nonce: '44'.repeat(24),
  wrapNonce: '55'.repeat(24),
  itemNonce: '66'.repeat(24),
  timestamp: 1_800_000_000_000,
}

/** Every derived value of the vectors, as hex, computed with `backend`. */
export function groupVectors(backend: CryptoBackend): Record<string, string> {
  const group = identityFromSeed(hex(INPUTS.groupSeed), backend)
  const owner = identityFromSeed(hex(INPUTS.ownerSeed), backend)
  const member = identityFromSeed(hex(INPUTS.memberSeed), backend)
  const options = { maxMembers: 1000, backend }
  const genesis = signUpdate(
    group.seed,
    {
      group: group.publicKey,
      version: 1,
      epoch: 1,
      prevHash: ZERO_HASH,
      signer: group.publicKey,
      ops: [
        { op: 'name', name: 'vectors' },
        { op: 'put', address: owner.publicKey, affiliation: 'owner', nick: 'alice' },
        { op: 'put', address: member.publicKey, affiliation: 'member', nick: 'bob' },
      ],
    },
    backend,
  )
  const s1 = applyUpdate(undefined, genesis, options) as StateChange
  const kick = signUpdate(
    owner.seed,
    {
      group: group.publicKey,
      version: 2,
      epoch: 2,
      prevHash: s1.state.hash,
      signer: owner.publicKey,
      ops: [{ op: 'remove', address: member.publicKey }],
    },
    backend,
  )
  const s2 = applyUpdate(s1.state, kick, options) as StateChange
  const pkg: KeyPackage = {
    group: group.publicKey,
    epoch: 2,
    stateVersion: 2,
    stateHash: s2.state.hash,
    epochKey: hex(INPUTS.epochKey),
    mailboxSeed: hex(INPUTS.mailboxSeed),
  }
  const key = messageKey(backend, group.publicKey, 2, pkg.epochKey)
  const body = encodeGroupBody({ kind: 'subject', subject: 'hello' })
  const input = {
    header: { group: group.publicKey, epoch: 2, id: hex(INPUTS.messageId), timestamp: INPUTS.timestamp },
    sender: owner,
    body,
  }
  const sealedSeed = sealGroupSeed(backend, owner, group, hex(INPUTS.wrapNonce))
  const normal = sealNormal(backend, key, input, () => hex(INPUTS.nonce))
  const itemKey = groupMailboxItemKey(backend, group.publicKey, 2, pkg.mailboxSeed)
  const item = sealMailboxItem(backend, itemKey, normal, () => hex(INPUTS.itemNonce))
  return {
    groupKey: toHex(group.publicKey),
    genesis: toHex(genesis),
    genesisHash: toHex(s1.state.hash),
    kick: toHex(kick),
    kickHash: toHex(s2.state.hash),
    snapshot: toHex(encodeSnapshot(toSnapshot(s2.state))),
    keyPackageBody: toHex(encodeGroupControl({ type: 'key', keyPackage: pkg })),
    keyPackage: toHex(encodeKeyPackage(pkg)),
    messageKey: toHex(key),
    mailboxPublicKey: toHex(groupMailboxIdentity(backend, group.publicKey, 2, pkg.mailboxSeed).publicKey),
    mailboxItemKey: toHex(itemKey),
    body: toHex(body),
    normal: toHex(normal),
    mailboxItemHead: toHex(item.subarray(0, 64)),
    mailboxItemSha256: toHex(backend.sha256(item)),
    high: toHex(sealHigh(input)),
    sync: toHex(encodeGroupControl({ type: 'sync', group: group.publicKey, version: 2 })),
    sealedSeed: toHex(sealedSeed.sealed),
  }
}

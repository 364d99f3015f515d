import { defaultConfig } from '../../bridge/config/schema.js'
import { generateIdentity, type Identity } from '../../bridge/crypto/identity.js'
import { nativeBackend } from '../../bridge/crypto/native.js'
import { EnvelopeSealer, MAX_FRAME_BYTES } from '../../bridge/messaging/envelope.js'
import { generateGroupKey } from '../../bridge/messaging/groups/group-key.js'
import { drawEpochSecrets, messageKey } from '../../bridge/messaging/groups/keys.js'
import { openNormal, sealHigh, sealNormal } from '../../bridge/messaging/groups/message.js'
import {
  applyUpdate,
  applyUpdates,
  type GroupState,
  genesisUpdate,
  proposeUpdate,
  toSnapshot,
} from '../../bridge/messaging/groups/state.js'
import { openMemoryStore } from '../../bridge/store/index.js'
import { encodeGroupControl } from '../../bridge/wire/group-control.js'
import {
  decodeGroupMessage,
  encodeGroupBody,
  type NormalGroupMessage,
} from '../../bridge/wire/group-message.js'
import { decodeSnapshot, encodeSnapshot } from '../../bridge/wire/group-state.js'
import { encodeStanzaPayload } from '../../bridge/wire/stanza-payload.js'
import { type BenchRow, type BenchSuite, opsPerSecond } from '../harness.js'

/**
 * The group protocol's costs (docs/groups.md "Costs"): sealing and opening one
 * message in normal and high mode at 20, 100 and 1,000 members, applying and
 * verifying states, and producing the key packages of a new epoch. Native
 * backend; envelopes are the real EnvelopeSealer's (static keys cached, as on a
 * running bridge).
 */
const SIZES = [20, 100, 1000]
/** A chat line: a 200-character body in a stanza payload. */
const PAYLOAD = encodeStanzaPayload({
  kind: 'message',
  type: 'normal',
  id: new Uint8Array(16),
  body: 'x'.repeat(200),
})
/** Hops a normal-mode sender seals itself when the fan-out tree relays the rest (GROUPS.md: fan-out ~10). */
const FANOUT = 10
const backend = nativeBackend
const options = { maxMembers: 1000, backend }

function build(size: number): {
  state: GroupState
  owner: Identity
  members: Identity[]
  chain: Uint8Array[]
} {
  const key = generateGroupKey(backend)
  const owner = generateIdentity(backend)
  const members = Array.from({ length: size - 1 }, () => generateIdentity(backend))
  let change = genesisUpdate(
    key,
    [{ op: 'put', address: owner.publicKey, affiliation: 'owner', nick: 'owner' }],
    options,
  )
  const chain = [change.update]
  for (let i = 0; i < members.length; i += 100) {
    const ops = members.slice(i, i + 100).map((m, j) => ({
      op: 'put' as const,
      address: m.publicKey,
      affiliation: 'member' as const,
      nick: `member-${i + j}`,
    }))
    change = proposeUpdate(change.state, owner, ops, options)
    chain.push(change.update)
  }
  return { state: change.state, owner, members, chain }
}

/** Milliseconds per call of `fn`, over `runs` runs after one warm-up. */
async function msPer(fn: () => unknown, runs: number): Promise<number> {
  await fn()
  const start = performance.now()
  for (let i = 0; i < runs; i++) await fn()
  return (performance.now() - start) / runs
}

async function sizeRows(size: number): Promise<BenchRow[]> {
  const { state, owner, members, chain } = build(size)
  const config = defaultConfig().messaging
  const sealer = new EnvelopeSealer({ store: await openMemoryStore(), config, backend })
  const secrets = drawEpochSecrets((n) => backend.randomBytes(n))
  const key = messageKey(backend, state.group, state.epoch, secrets.epochKey)
  const header = () => ({
    group: state.group,
    epoch: state.epoch,
    id: backend.randomBytes(16),
    timestamp: Date.now(),
  })
  const body = encodeGroupBody({ kind: 'message', payload: PAYLOAD })
  const random = (n: number) => backend.randomBytes(n)
  const normal = sealNormal(backend, key, { header: header(), sender: owner, body }, random)
  const decoded = decodeGroupMessage(normal) as NormalGroupMessage
  const sealTo = async (recipients: Identity[], bytes: Uint8Array) => {
    const frame = encodeGroupControl({ type: 'message', message: bytes }).subarray(0, MAX_FRAME_BYTES)
    for (const r of recipients) await sealer.seal(owner, r.publicKey, frame)
  }
  await sealTo(members, normal) // warm the sealer's key caches, as on a running bridge
  const firstHops = members.slice(0, FANOUT)
  const chunks = Math.ceil((normal.length + 2) / (MAX_FRAME_BYTES - 42))
  const runs = size >= 1000 ? 3 : 10
  const tag = `${size} members`
  const highMs = await msPer(() => sealTo(members, sealHigh({ header: header(), sender: owner, body })), runs)
  const normalMs = await msPer(
    () => sealTo(firstHops, sealNormal(backend, key, { header: header(), sender: owner, body }, random)),
    runs * 5,
  )
  const packageBody = () =>
    encodeGroupControl({
      type: 'key',
      keyPackage: {
        group: state.group,
        epoch: 2,
        stateVersion: 2,
        stateHash: state.hash,
        ...drawEpochSecrets(random),
      },
    })
  const rows: BenchRow[] = [
    {
      metric: `normal seal+sign, ${tag}`,
      value: await opsPerSecond(
        () => sealNormal(backend, key, { header: header(), sender: owner, body }, random),
        300,
      ),
      unit: 'msgs/s',
    },
    {
      metric: `normal verify+open, ${tag}`,
      value: await opsPerSecond(() => openNormal(backend, key, decoded), 300),
      unit: 'msgs/s',
    },
    {
      metric: `normal sender CPU (seal + ${Math.min(FANOUT, size - 1)} envelopes), ${tag}`,
      value: normalMs,
      unit: 'ms/msg',
    },
    { metric: `high sender CPU (${size - 1} envelopes), ${tag}`, value: highMs, unit: 'ms/msg' },
    {
      metric: `normal sender bytes (fan-out ${FANOUT}), ${tag}`,
      value: Math.min(FANOUT, size - 1) * chunks * 959,
      unit: 'bytes/msg',
    },
    { metric: `high sender bytes, ${tag}`, value: (size - 1) * chunks * 959, unit: 'bytes/msg' },
    {
      metric: `key packages for a new epoch (${size - 1} envelopes), ${tag}`,
      value: await msPer(async () => sealTo(members, packageBody()), size >= 1000 ? 3 : 10),
      unit: 'ms',
    },
  ]
  if (size === 1000) {
    const snapshot = encodeSnapshot(toSnapshot(state))
    // One member's change (a removal: the usual reason for a new epoch) against the full state.
    const one = proposeUpdate(state, owner, [{ op: 'remove', address: members[0]!.publicKey }], options)
    rows.push(
      { metric: 'state snapshot size, 1000 members', value: snapshot.length, unit: 'bytes' },
      {
        metric: 'state snapshot encode, 1000 members',
        value: await msPer(() => encodeSnapshot(toSnapshot(state)), 20),
        unit: 'ms',
      },
      {
        metric: 'state snapshot decode, 1000 members',
        value: await msPer(() => decodeSnapshot(snapshot), 20),
        unit: 'ms',
      },
      {
        metric: 'chain size from genesis, 1000 members',
        value: chain.reduce((n, u) => n + u.length, 0),
        unit: 'bytes',
      },
      {
        metric: 'verify chain from genesis, 1000 members',
        value: await msPer(() => applyUpdates(undefined, chain, options), 10),
        unit: 'ms',
      },
      {
        metric: 'apply a one-member update, 1000 members',
        value: await msPer(() => applyUpdate(state, one.update, options), 50),
        unit: 'ms',
      },
      { metric: 'one-member update size', value: one.update.length, unit: 'bytes' },
    )
  }
  return rows
}

const suite: BenchSuite = {
  name: 'groups-protocol',
  async run(): Promise<BenchRow[]> {
    const rows: BenchRow[] = []
    for (const size of SIZES) rows.push(...(await sizeRows(size)))
    return rows
  },
}

export default suite

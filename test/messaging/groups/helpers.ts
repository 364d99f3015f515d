import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after } from 'node:test'
import { defaultConfig } from '../../../bridge/config/schema.js'
import type { GroupsConfig } from '../../../bridge/config/sections/groups.js'
import { generateIdentity, type Identity } from '../../../bridge/crypto/identity.js'
import { nativeBackend } from '../../../bridge/crypto/native.js'
import { GroupError, type GroupErrorCode } from '../../../bridge/messaging/groups/errors.js'
import { type GroupKeyPair, generateGroupKey } from '../../../bridge/messaging/groups/group-key.js'
import { GroupSession, type Outgoing } from '../../../bridge/messaging/groups/session.js'
import { openStore, type Store } from '../../../bridge/store/index.js'
import { controlGroup, decodeGroupControl } from '../../../bridge/wire/group-control.js'

export const T0 = 1_800_000_000_000
export const config: GroupsConfig = defaultConfig().groups
export const MAX_MESSAGE_BYTES = defaultConfig().messaging.maxMessageBytes

export const hexOf = (b: Uint8Array): string => Buffer.from(b).toString('hex')
export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s)

export const groupError = (code: GroupErrorCode) => (err: unknown) =>
  err instanceof GroupError && err.code === code

/** A clock the test moves by hand. */
export function clock(start = T0) {
  let t = start
  return {
    now: () => t,
    advance: (ms: number) => {
      t += ms
    },
  }
}

export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'paranoim-groups-'))
  after(() => rm(dir, { recursive: true, force: true }))
  return dir
}

/** A member's bridge: an identity, its own LevelDB (classic-level, in a temp dir), its session of the group. */
export interface Member {
  identity: Identity
  store: Store
  dir: string
  session: GroupSession
}

export interface Group {
  key: GroupKeyPair
  members: Map<string, Member>
  now: () => number
  advance: (ms: number) => void
  /** Delivers Outgoing bodies from `from` to each recipient's session; returns what each refused, by code. */
  deliver(from: Member, sends: Outgoing[]): Promise<string[]>
  join(identity?: Identity): Promise<Member>
  reopen(member: Member): Promise<Member>
}

export async function openMember(
  group: Uint8Array,
  now: () => number,
  identity = generateIdentity(),
  dir?: string,
  overrides: Partial<GroupsConfig> = {},
): Promise<Member> {
  const dataDir = dir ?? (await tempDir())
  const store = await openStore({ dataDir })
  after(() => store.close())
  const session = await GroupSession.load({
    store,
    local: identity,
    group,
    config: { ...config, ...overrides },
    maxMessageBytes: MAX_MESSAGE_BYTES,
    now,
  })
  return { identity, store, dir: dataDir, session }
}

/** A group of `size` members, all with sessions; the first is the creator and only owner. */
export async function makeGroup(
  size: number,
  options: { mode?: 'normal' | 'high'; overrides?: Partial<GroupsConfig> } = {},
): Promise<{ group: Group; members: Member[] }> {
  const key = generateGroupKey(nativeBackend)
  const { now, advance } = clock()
  const members = new Map<string, Member>()
  const group: Group = {
    key,
    members,
    now,
    advance,
    async deliver(from, sends) {
      const refused: string[] = []
      for (const { to, body } of sends)
        for (const address of to) {
          const member = members.get(hexOf(address))
          if (!member) continue
          const control = decodeGroupControl(body)
          if (hexOf(controlGroup(control)) !== hexOf(key.publicKey))
            throw new Error('routed to the wrong group')
          try {
            await member.session.receive(from.identity.publicKey, control)
          } catch (err) {
            if (!(err instanceof GroupError)) throw err
            refused.push(err.code)
          }
        }
      return refused
    },
    async join(identity) {
      const member = await openMember(key.publicKey, now, identity, undefined, options.overrides)
      members.set(hexOf(member.identity.publicKey), member)
      return member
    },
    async reopen(member) {
      await member.store.close()
      const again = await openMember(key.publicKey, now, member.identity, member.dir, options.overrides)
      members.set(hexOf(member.identity.publicKey), again)
      return again
    },
  }
  const all: Member[] = []
  for (let i = 0; i < size; i++) all.push(await group.join())
  const [creator, ...rest] = all
  const made = await creator!.session.create(key, {
    name: 'Test room',
    nick: 'creator',
    mode: options.mode,
    members: rest.map((m, i) => ({ address: m.identity.publicKey, nick: `m${i + 1}` })),
  })
  const refused = await group.deliver(creator!, made.sends)
  if (refused.length) throw new Error(`setup refused: ${refused.join(', ')}`)
  return { group, members: all }
}

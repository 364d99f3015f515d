import { randomBytes } from 'node:crypto'
import type { Element } from 'ltx'
import { defaultConfig } from '../../bridge/config/schema.js'
import type { GroupsConfig } from '../../bridge/config/sections/groups.js'
import { encodeAddress } from '../../bridge/crypto/address.js'
import { type Identity, identityFromSeed } from '../../bridge/crypto/identity.js'
import type { GatewayMessenger } from '../../bridge/gateway/gateway.js'
import { GroupGateway } from '../../bridge/gateway/groups/group-gateway.js'
import type { GroupMailboxPort } from '../../bridge/gateway/groups/mailbox-port.js'
import type { GroupRecordPort } from '../../bridge/gateway/groups/record-port.js'
import type { RoomAction, RoomRemote, RoomSettings } from '../../bridge/gateway/groups/room-port.js'
import { silentLogger } from '../../bridge/log.js'
import { openMemoryStore, type Store } from '../../bridge/store/index.js'
import { DOMAIN, settle } from './helpers.js'

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

type PeerEvent = { from: Uint8Array; to: Uint8Array }
type Listeners = Map<string, ((event: PeerEvent) => void)[]>

/** What the fake room was told, in order: the method and its arguments after the room name. */
export interface RoomCall {
  method: keyof RoomRemote
  room: string
  args: unknown[]
}

/** The MUC module's remote side, recording (a unit test of the gateway's mapping; the real one is in test/e2e/groups.test.ts). */
export function recordingRoom(calls: RoomCall[]): RoomRemote {
  const record =
    (method: keyof RoomRemote) =>
    async (room: string, ...args: unknown[]) => {
      calls.push({ method, room, args })
    }
  return {
    configure: record('configure'),
    join: record('join'),
    leave: record('leave'),
    changePresence: record('changePresence'),
    changeNick: record('changeNick'),
    message: record('message') as RoomRemote['message'],
    subject: record('subject') as RoomRemote['subject'],
    affiliation: record('affiliation') as RoomRemote['affiliation'],
    role: record('role') as RoomRemote['role'],
    invite: record('invite') as RoomRemote['invite'],
    decline: record('decline') as RoomRemote['decline'],
    destroy: record('destroy') as RoomRemote['destroy'],
  }
}

/** One bridge with one account: its group gateway, a memory store, and what its room was told. */
export interface FakeBridge {
  account: string
  identity: Identity
  address: string
  jid: string
  store: Store
  groups: GroupGateway
  calls: RoomCall[]
  propose(action: Partial<RoomAction> & Pick<RoomAction, 'type' | 'room'>): Promise<void>
  /** The addresses (hex) this account counts as contacts; undefined: everyone is one. */
  contacts?: Set<string>
  /** Raises a messenger event at this bridge's gateway ('heard', 'unreachable'). */
  emit(event: 'heard' | 'unreachable', payload: PeerEvent): void
}

/**
 * Mailboxes in memory, by the public key they are deposited for (a unit test
 * of the gateway's use of the group mailbox; the real client is in
 * test/gateway/groups-mailbox-network.test.ts).
 */
export class FakeMailboxes implements GroupMailboxPort {
  items = new Map<string, Uint8Array[]>()

  async deposit(mailbox: Uint8Array, item: Uint8Array): Promise<void> {
    const key = hex(mailbox)
    this.items.set(key, [...(this.items.get(key) ?? []), item])
  }

  async fetch(identity: Identity): Promise<{ item: Uint8Array }[]> {
    return (this.items.get(hex(identity.publicKey)) ?? []).map((item) => ({ item }))
  }
}

/** Bridges whose messengers reach each other in memory (each body delivered once, in order, on a later tick). */
export class FakeNetwork {
  readonly bridges = new Map<string, FakeBridge>()
  private tail: Promise<unknown> = Promise.resolve()
  /** Bodies this predicate matches wait in `held` until release() (a body that is late on the network). */
  hold: (body: Uint8Array, to: Uint8Array, from: Uint8Array) => boolean = () => false
  /** Every body sent, by whom. */
  readonly sent: { from: Uint8Array; body: Uint8Array }[] = []
  private held: (() => void)[] = []

  release(): void {
    for (const send of this.held.splice(0)) send()
  }

  messenger(listeners: Listeners): GatewayMessenger {
    return {
      send: async (from, to, body) => {
        this.sent.push({ from, body })
        const target = this.bridges.get(hex(to))
        if (!target) return
        const message = { from, to, id: randomBytes(16), timestamp: Date.now(), body, reliable: true }
        const send = () => {
          this.tail = this.tail.then(() => target.groups.deliver(message))
        }
        if (this.hold(body, to, from)) this.held.push(send)
        else send()
      },
      on: (event, listener) => {
        listeners.set(event, [...(listeners.get(event) ?? []), listener])
      },
      off: (event, listener) => {
        listeners.set(
          event,
          (listeners.get(event) ?? []).filter((l) => l !== listener),
        )
      },
    }
  }

  /** Until every body sent (and every body those caused) has been delivered and shown. */
  async quiet(): Promise<void> {
    for (let i = 0; i < 10; i++) {
      await this.tail
      await settle()
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
  }

  async add(
    account: string,
    groups: Partial<GroupsConfig> = {},
    mailbox?: GroupMailboxPort,
    { now, records }: { now?: () => number; records?: GroupRecordPort } = {},
  ): Promise<FakeBridge> {
    const identity = identityFromSeed(randomBytes(32))
    const store = await openMemoryStore()
    const calls: RoomCall[] = []
    const room = recordingRoom(calls)
    const config = { ...defaultConfig().groups, orderHoldMs: 0, ...groups }
    const listeners: Listeners = new Map()
    const gateway = new GroupGateway({
      config,
      domain: DOMAIN,
      maxMessageBytes: defaultConfig().messaging.maxMessageBytes,
      messenger: this.messenger(listeners),
      identities: {
        identityOf: (name) => (name === account ? identity : undefined),
        accountOf: (address) => (hex(address) === hex(identity.publicKey) ? account : undefined),
        addressOfAccount: async (name) => (name === account ? identity.publicKey : undefined),
        isContact: async (_name, address) => bridge.contacts?.has(hex(address)) ?? true,
      },
      muc: () => room,
      store,
      log: silentLogger,
      ...(mailbox ? { mailbox } : {}),
      ...(records ? { records } : {}),
      ...(now ? { now } : {}),
    })
    const address = encodeAddress(identity.publicKey)
    const bridge: FakeBridge = {
      account,
      identity,
      address,
      jid: `${address.toLowerCase()}@${DOMAIN}`,
      store,
      groups: gateway,
      calls,
      propose: (action) => gateway.propose({ account, nick: '', stamp: Date.now(), ...action } as RoomAction),
      emit: (event, payload) => {
        for (const listener of listeners.get(event) ?? []) listener(payload)
      },
    }
    await gateway.addIdentity(identity)
    this.bridges.set(hex(identity.publicKey), bridge)
    return bridge
  }
}

export const body = (payload: Element[]) => payload.map((el) => el.toString()).join('')

/**
 * `owner` creates the room "team" with `settings` and invites each of
 * `invitees` (mediated): the group, and the room's name on the invitees'
 * bridges (its address), once the network is quiet.
 */
export async function createTeam(
  net: FakeNetwork,
  owner: FakeBridge,
  invitees: FakeBridge[],
  settings: RoomSettings,
): Promise<{ group: Uint8Array; room: string }> {
  await owner.propose({ type: 'create', room: 'team', nick: 'Alice', config: settings })
  const group = owner.groups.rooms.groupOf('team')!
  for (const invitee of invitees) await owner.propose({ type: 'invite', room: 'team', invitee: invitee.jid })
  await net.quiet()
  return { group, room: encodeAddress(group).toLowerCase() }
}

import { randomBytes } from 'node:crypto'
import type { Element } from 'ltx'
import { defaultConfig } from '../../bridge/config/schema.js'
import type { GroupsConfig } from '../../bridge/config/sections/groups.js'
import { encodeAddress } from '../../bridge/crypto/address.js'
import { type Identity, identityFromSeed } from '../../bridge/crypto/identity.js'
import type { GatewayMessenger } from '../../bridge/gateway/gateway.js'
import { GroupGateway } from '../../bridge/gateway/groups/group-gateway.js'
import type { RoomAction, RoomRemote } from '../../bridge/gateway/groups/room-port.js'
import { silentLogger } from '../../bridge/log.js'
import { openMemoryStore, type Store } from '../../bridge/store/index.js'
import { DOMAIN, settle } from './helpers.js'

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

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
    changeNick: record('changeNick'),
    message: record('message') as RoomRemote['message'],
    subject: record('subject') as RoomRemote['subject'],
    affiliation: record('affiliation') as RoomRemote['affiliation'],
    role: record('role') as RoomRemote['role'],
    invite: record('invite') as RoomRemote['invite'],
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

  messenger(): GatewayMessenger {
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
      on: () => undefined,
      off: () => undefined,
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

  async add(account: string, groups: Partial<GroupsConfig> = {}): Promise<FakeBridge> {
    const identity = identityFromSeed(randomBytes(32))
    const store = await openMemoryStore()
    const calls: RoomCall[] = []
    const room = recordingRoom(calls)
    const config = { ...defaultConfig().groups, orderHoldMs: 0, ...groups }
    const gateway = new GroupGateway({
      config,
      domain: DOMAIN,
      maxMessageBytes: defaultConfig().messaging.maxMessageBytes,
      messenger: this.messenger(),
      identities: {
        identityOf: (name) => (name === account ? identity : undefined),
        accountOf: (address) => (hex(address) === hex(identity.publicKey) ? account : undefined),
        addressOfAccount: async (name) => (name === account ? identity.publicKey : undefined),
      },
      muc: () => room,
      store,
      log: silentLogger,
    })
    await gateway.addIdentity(identity)
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
    }
    this.bridges.set(hex(identity.publicKey), bridge)
    return bridge
  }
}

export const body = (payload: Element[]) => payload.map((el) => el.toString()).join('')

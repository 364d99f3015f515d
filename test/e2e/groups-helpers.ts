import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { type Element, createElement as xml } from 'ltx'
import { loadConfig } from '../../bridge/config/load.js'
import type { Config } from '../../bridge/config/schema.js'
import { silentLogger } from '../../bridge/log.js'
import { GroupSession } from '../../bridge/messaging/groups/session.js'
import { type Bridge, createBridge } from '../../bridge/service/bridge.js'
import { IdentityService } from '../../bridge/service/identities.js'
import { openStore, type Store } from '../../bridge/store/index.js'
import { login, type TestClient, trustCertificate } from '../xmpp/client.js'

/**
 * Helpers of the group e2e tests (test/e2e/groups*.test.ts): one side = one
 * in-process bridge on the relay testnet, its store and one @xmpp/client user.
 */
export const DOMAIN = 'paranoim.localhost'
export const SERVICE = `conference.${DOMAIN}`
export const PASSWORD = 'correct horse battery'
export const MUC = 'http://jabber.org/protocol/muc'
export const MUC_USER = `${MUC}#user`
export const WAIT = 30_000

export interface Side {
  nickname: string
  nick: string
  address: string
  config: Config
  store: Store
  bridge: Bridge
  client: TestClient
  /** The room's JID as this side's bridge names it. */
  room: string
}

export interface Account {
  nickname: string
  nick: string
  address: string
  client: TestClient
}

/** An in-process bridge on the relay testnet with one account per nickname, each logged in and available. */
export async function startBridgeWith(
  root: string,
  nicknames: string[],
  bootstrap: string,
  overrides: Record<string, unknown> = {},
): Promise<{ config: Config; store: Store; bridge: Bridge; accounts: Account[] }> {
  const dataDir = join(root, nicknames[0]!)
  const config = loadConfig({
    files: [join(import.meta.dirname, '../../config/testnet.toml')],
    overrides: {
      ...overrides,
      store: { dataDir },
      identity: { kdf: { logN: 10 } },
      xmpp: { port: 0, tlsPort: 0 },
      webui: { enabled: false },
      dht: { bootstrap: [bootstrap] },
      net: { host: '127.0.0.1' },
      log: { level: 'silent' },
    },
  })
  const store = await openStore({ dataDir })
  const identities = new IdentityService({ store, kdf: config.identity.kdf, log: silentLogger })
  const addresses: string[] = []
  for (const nickname of nicknames) addresses.push((await identities.create(nickname, PASSWORD)).address)
  const bridge = createBridge(config, { log: silentLogger, store })
  await bridge.start()
  const port = bridge.status().xmpp!.port
  trustCertificate(await readFile(join(dataDir, 'tls', `${DOMAIN}.crt`), 'utf8'), port)
  const accounts: Account[] = []
  for (const [i, nickname] of nicknames.entries())
    accounts.push({ ...(await loginAs(nickname, port)), address: addresses[i]! })
  return { config, store, bridge, accounts }
}

/** Logs `nickname` in on the bridge at `port` and makes it available; its room nick is the name capitalised. */
export async function loginAs(
  nickname: string,
  port: number,
): Promise<{ nickname: string; nick: string; client: TestClient }> {
  const client = await login(port, nickname, { password: PASSWORD, resource: 'test' })
  await client.xmpp.send(xml('presence'))
  return { nickname, nick: nickname[0]!.toUpperCase() + nickname.slice(1), client }
}

export async function startSide(root: string, nickname: string, bootstrap: string): Promise<Side> {
  const { config, store, bridge, accounts } = await startBridgeWith(root, [nickname], bootstrap)
  return { ...accounts[0]!, config, store, bridge, room: '' }
}

export async function until(what: string, check: () => boolean, timeoutMs = WAIT): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

export const field = (name: string, value: string) => xml('field', { var: name }, xml('value', {}, value))
/** Submits the owner's configuration form of `room` (XEP-0045 §10.1.3) with these muc#roomconfig fields. */
export function configureRoom(
  client: TestClient,
  room: string,
  fields: Record<string, string>,
): Promise<Element> {
  return client.xmpp.iqCaller.request(
    xml(
      'iq',
      { type: 'set', to: room },
      xml(
        'query',
        { xmlns: `${MUC}#owner` },
        xml(
          'x',
          { xmlns: 'jabber:x:data', type: 'submit' },
          field('FORM_TYPE', `${MUC}#roomconfig`),
          ...Object.entries(fields).map(([name, value]) => field(name, value)),
        ),
      ),
    ),
  )
}

export const jid = (side: Side) => `${side.address}@${DOMAIN}`

/** Presences from `occupant` in the room as `viewer` saw them: 'available' or 'unavailable', with status codes. */
export function presencesOf(viewer: Side, occupant: Side): { type: string; codes: string[] }[] {
  return viewer.client.stanzas
    .filter((s) => s.is('presence') && s.attrs.from === `${viewer.room}/${occupant.nick}`)
    .map((s) => ({
      type: s.attrs.type ?? 'available',
      codes:
        s
          .getChild('x', MUC_USER)
          ?.getChildren('status')
          .map((c: Element) => c.attrs.code as string) ?? [],
    }))
}

export function groupchat(viewer: Side, from: Side): string[] {
  return viewer.client.stanzas
    .filter(
      (s) =>
        s.is('message') &&
        s.attrs.type === 'groupchat' &&
        s.attrs.from === `${viewer.room}/${from.nick}` &&
        s.getChildText('body') !== null,
    )
    .map((s) => s.getChildText('body')!)
}

export function subjects(viewer: Side): string[] {
  return viewer.client.stanzas
    .filter(
      (s) => s.is('message') && s.attrs.type === 'groupchat' && s.getChild('subject') && !s.getChild('body'),
    )
    .map((s) => s.getChildText('subject') ?? '')
}

/** A second session over a side's store (the bridge's own is not reachable from here), for its keys. */
export async function sessionCopy(side: Side, group: Uint8Array): Promise<GroupSession> {
  const identities = new IdentityService({
    store: side.store,
    kdf: side.config.identity.kdf,
    log: silentLogger,
  })
  return GroupSession.load({
    store: side.store,
    local: await identities.open(side.nickname, PASSWORD),
    group,
    config: side.config.groups,
    maxMessageBytes: side.config.messaging.maxMessageBytes,
  })
}

export const join_ = (side: Side) =>
  side.client.xmpp.send(xml('presence', { to: `${side.room}/${side.nick}` }, xml('x', { xmlns: MUC })))

/** The muc#user item of the presences from `occupant` that `viewer` got, in order (role, affiliation). */
export function itemsOf(viewer: Side, occupant: Side): { type: string; role?: string; x: Element }[] {
  return viewer.client.stanzas
    .filter((s) => s.is('presence') && s.attrs.from === `${viewer.room}/${occupant.nick}`)
    .map((s) => {
      const x = s.getChild('x', MUC_USER)
      return { type: s.attrs.type ?? 'available', role: x?.getChild('item')?.attrs.role, x: x! }
    })
}

/**
 * `owner` makes the members-only room `name` and invites the others (XEP-0045
 * §7.8.2 mediated invitations), then they join: every side ends in the room, seeing all the others.
 */
export async function openRoom(owner: Side, others: Side[], name: string): Promise<void> {
  owner.room = `${name}@${SERVICE}`
  await join_(owner)
  await until('the owner in the new room', () =>
    presencesOf(owner, owner).some((p) => p.codes.includes('201')),
  )
  await configureRoom(owner.client, owner.room, { 'muc#roomconfig_membersonly': '1' })
  for (const invitee of others)
    await owner.client.xmpp.send(
      xml('message', { to: owner.room }, xml('x', { xmlns: MUC_USER }, xml('invite', { to: jid(invitee) }))),
    )
  // Everyone is a member before anyone joins: a join published at a state version its receiver
  // skipped (it made two changes in a row) is not opened there today (GroupMember.membersOf).
  for (const invitee of others) {
    const invite = await invitee.client.next(
      (s) => s.is('message') && (s.attrs.from ?? '').endsWith(`@${SERVICE}`) && !!s.getChild('x', MUC_USER),
      WAIT,
    )
    invitee.room = invite.attrs.from!
  }
  for (const invitee of others) await join_(invitee)
  const sides = [owner, ...others]
  for (const viewer of sides)
    for (const occupant of sides)
      await until(`${viewer.nick} sees ${occupant.nick} in`, () =>
        presencesOf(viewer, occupant).some((p) => p.type === 'available'),
      )
}

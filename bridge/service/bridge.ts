import type { Config } from '../config/schema.js'
import { encodeAddress, type Identity, identityFromSeed, parseAddress } from '../crypto/index.js'
import { GatewayError } from '../gateway/errors.js'
import { Gateway } from '../gateway/gateway.js'
import { GroupGateway } from '../gateway/groups/group-gateway.js'
import { networkGroupMailbox } from '../gateway/groups/mailbox-port.js'
import type { Logger } from '../log.js'
import { EnvelopeSealer } from '../messaging/envelope.js'
import { type MailboxPort, type MessageTransport, Messenger } from '../messaging/messenger.js'
import { OnionError } from '../onion/errors.js'
import type { Store } from '../store/index.js'
import { isGroupControl } from '../wire/group-control.js'
import { XMPPError } from '../xmpp/errors.js'
import type { XmppModule } from '../xmpp/module.js'
import { defaultModules } from '../xmpp/modules/index.js'
import { createMucModule } from '../xmpp/modules/muc/index.js'
import type { RemoteRouter } from '../xmpp/remote.js'
import { createXmppServer } from '../xmpp/server.js'
import { BindingsService } from './bindings.js'
import { ContactsService } from './contacts.js'
import { IdentityService } from './identities.js'
import { type BridgeNetwork, startBridgeNetwork } from './network.js'
import { bindingRosterNames } from './roster-names.js'
import { type BridgeStatus, xmppStatus } from './status.js'

export interface BridgeComponents {
  log: Logger
  /** Opened (and later closed) by the caller, who owns the data dir. */
  store: Store
  /** XMPP modules beside the default ones (the demo's echo bot). */
  xmppModules?: readonly XmppModule[]
}

/** The running daemon as the CLI and the web UI see it. */
export interface Bridge {
  readonly identities: IdentityService
  /** Petnames for addresses, per identity (web UI, roster names). */
  readonly bindings: BindingsService
  /** Network contacts and requests per identity (web UI). */
  readonly contacts: ContactsService
  /**
   * Opens an identity's key with its password and brings it online (a Jabber
   * login does the same with its SCRAM ClientKey). Throws WrongPasswordError.
   */
  unlock(nickname: string, password: string): Promise<void>
  /** Whether the identity is unlocked and its record is out on the network. */
  online(nickname: string): boolean
  /** What runs and how busy it is, for the web UI's live pages; parts not running are null. */
  status(): BridgeStatus
  start(): Promise<void>
  stop(): Promise<void>
}

const PREKEY_EXPIRY_CHECK_MS = 10 * 60_000

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')

/** The core bounces only XMPPErrors: a gateway's refusal becomes one, with its condition and text. */
function refuse(error: unknown): never {
  if (error instanceof GatewayError) throw new XMPPError(error.condition, error.text)
  throw error
}

/**
 * Composition root: builds every service from the one config object and
 * starts/stops them in order. A message's way out: XMPP server → gateway
 * (the server's remote router) → messenger (outbox) → onion service; and in:
 * onion service → messenger → gateway → XMPP server. Identities reach the
 * network once unlocked (at a Jabber login, or with their password).
 */
export function createBridge(config: Config, { log, store, xmppModules = [] }: BridgeComponents): Bridge {
  const bridgeLog = log.child({ c: 'bridge' })
  const identities = new IdentityService({ store, kdf: config.identity.kdf, log })
  const bindings = new BindingsService(store)
  const startedAt = Date.now()
  const domain = config.xmpp.domain
  /** Unlocked identities by account, and accounts by hex address. */
  const unlocked = new Map<string, Identity>()
  const accounts = new Map<string, string>()
  let network: BridgeNetwork | undefined
  let gateway: Gateway | undefined

  const remote: RemoteRouter = {
    async route(stanza, to) {
      if (!gateway) throw new XMPPError('remote-server-not-found', 'the bridge is starting')
      await gateway.route(stanza, to).catch((error: unknown) => refuse(error))
    },
  }
  // Rooms are groups on the network: the MUC service proposes every local room action to the group gateway.
  const muc = createMucModule({
    port: {
      propose: (action) => groups.propose(action).catch((error: unknown) => refuse(error)),
      locate: (entry) => groups.locate(entry).catch((error: unknown) => refuse(error)),
    },
  })
  const xmpp = createXmppServer({
    config,
    store,
    log,
    rosterNames: bindingRosterNames(identities, bindings, domain),
    routers: { remote },
    modules: [...defaultModules.filter((m) => m.name !== muc.name), muc, ...xmppModules],
  })
  const contacts = new ContactsService({
    xmpp,
    bindings,
    domain,
    addressOf: async (nickname) => (await identities.get(nickname)).address,
    heldRequests: async (nickname) => (gateway ? gateway.heldRequests(nickname) : []),
  })

  const transport: MessageTransport = {
    async send(to, envelope) {
      // A contact on this same bridge: straight to its receiving side, same guarantees.
      if (accounts.has(hex(to))) {
        setImmediate(() => void messenger.receive(to, envelope))
        return
      }
      if (!network) throw new OnionError('NO_PATH', 'the network is off (net.enabled = false)')
      await network.onion.send(to, envelope)
    },
    forget: (to) => network?.onion.forget(to),
  }
  // The messenger exists before the network starts: its mailboxes are the network's once it runs.
  const mailboxes: MailboxPort = {
    deposit: (to, envelope) => networkOn().mailbox.deposit(to, envelope),
    fetch: (identity) => networkOn().mailbox.fetch(identity),
    ack: (identity, ids) => networkOn().mailbox.ack(identity, ids),
  }
  const networkOn = (): BridgeNetwork => {
    if (!network) throw new OnionError('NO_PATH', 'the network is not running')
    return network
  }
  const sealer = new EnvelopeSealer({ store, config: config.messaging })
  let expiryTimer: NodeJS.Timeout | undefined
  const messenger = new Messenger({
    store,
    transport,
    sealer,
    config: config.messaging,
    log,
    deliver: (message): Promise<void> => {
      // Group bodies (0x67) go to the group side (dropped without a MUC service); the rest are stanza payloads.
      if (isGroupControl(message.body))
        return config.xmpp.muc.enabled ? groups.deliver(message) : Promise.resolve()
      if (!gateway) throw new Error('gateway not started')
      return gateway.deliver(message)
    },
    ...(config.net.enabled
      ? {
          mailbox: {
            port: mailboxes,
            holders: config.mailbox.holders,
            concurrency: config.mailbox.stampWorkers,
            fetchIntervalMs: config.mailbox.fetchIntervalMs,
          },
        }
      : {}),
  })
  const groups: GroupGateway = new GroupGateway({
    config: config.groups,
    domain,
    maxMessageBytes: config.messaging.maxMessageBytes,
    messenger,
    identities: {
      identityOf: (account) => unlocked.get(account),
      accountOf: (address) => accounts.get(hex(address)),
      addressOfAccount: (account) =>
        identities.get(account).then(
          (summary) => parseAddress(summary.address),
          () => undefined,
        ),
      // Before the gateway runs nobody counts as a contact: an invitation then waits as a stranger's would.
      isContact: (account, address) => gateway?.isContact(account, address) ?? Promise.resolve(false),
    },
    muc: () => muc.remote,
    store,
    log,
    // Group mailbox items are never acked: every member fetches them (docs/gateway.md "Groups").
    ...(config.net.enabled
      ? {
          mailbox: networkGroupMailbox({
            client: () => networkOn().mailbox,
            mailbox: config.mailbox,
            routineHolders: config.groups.routineSyncHolders,
            now: Date.now,
          }),
          // Open rooms' records: blinded under the group key, as identities' rendezvous records are.
          records: {
            publish: (group, plaintext) =>
              networkOn().node.service.blinded.own(identityFromSeed(group.seed), plaintext),
            withdraw: (group) => network?.node.service.blinded.disown(group),
            fetch: (group) => networkOn().node.service.blinded.fetch(group),
          },
        }
      : {}),
  })

  /** Once the identity is reachable, what waits for it in its mailboxes comes in. */
  function fetchMailbox(identity: Identity): void {
    messenger
      .fetchMailbox(identity.publicKey)
      ?.catch((error: unknown) => bridgeLog.warn({ err: error }, 'mailbox fetch failed'))
  }

  function bringOnline(account: string, identity: Identity): void {
    if (unlocked.has(account)) return
    unlocked.set(account, identity)
    accounts.set(hex(identity.publicKey), account)
    messenger.addIdentity(identity)
    network?.host(identity, () => {
      fetchMailbox(identity)
      void groups.catchUp(identity)
    })
    groups
      .addIdentity(identity)
      .catch((error: unknown) => bridgeLog.error({ err: error, account }, 'group sessions not loaded'))
    bridgeLog.info({ account, address: encodeAddress(identity.publicKey) }, 'identity unlocked')
  }

  xmpp.on('authenticated', ({ account, clientKey }) => {
    if (unlocked.has(account)) return
    identities.openAtLogin(account, clientKey).then(
      (identity) => {
        if (identity) bringOnline(account, identity)
        else
          bridgeLog.warn({ account }, 'this login cannot open the identity key (log in to the web UI once)')
      },
      (error: unknown) => bridgeLog.error({ err: error, account }, 'identity key not opened'),
    )
  })

  let xmppRunning = false
  return {
    identities,
    bindings,
    contacts,
    async unlock(nickname, password) {
      if (unlocked.has(nickname)) return
      bringOnline(nickname, await identities.open(nickname, password))
    },
    online(nickname) {
      const identity = unlocked.get(nickname)
      return identity !== undefined && (network?.reachable(identity.publicKey) ?? false)
    },
    status: () => ({
      startedAt,
      xmpp: xmppRunning ? xmppStatus(config.xmpp, xmpp) : null,
      network: network ? { ...network.counts(), outbox: messenger.counts().outbox } : null,
    }),
    async start() {
      if (config.net.enabled) {
        network = await startBridgeNetwork(config, log, store)
        network.onion.on('message', (address, payload) => void messenger.receive(address, payload))
      }
      gateway = new Gateway({
        config: config.gateway,
        domain,
        maxMessageBytes: config.messaging.maxMessageBytes,
        messenger,
        xmpp,
        identities: {
          addressOf: (account) => unlocked.get(account)?.publicKey,
          accountOf: (address) => accounts.get(hex(address)),
        },
        store,
        log,
      })
      // Prekeys and group epoch keys past their lifetime are deleted even for identities that stay idle (forward secrecy).
      const expire = () => {
        void sealer.expire().catch((error) => bridgeLog.warn({ err: error }, 'prekey expiry failed'))
        void groups.expire().catch((error) => bridgeLog.warn({ err: error }, 'group key expiry failed'))
      }
      expire()
      expiryTimer = setInterval(
        expire,
        Math.min(config.messaging.prekeyRotationMs, PREKEY_EXPIRY_CHECK_MS),
      ).unref()
      await xmpp.start()
      xmppRunning = true
      const count = (await identities.list()).length
      bridgeLog.info({ dataDir: store.dataDir, identities: count }, 'bridge started')
    },
    async stop() {
      if (xmppRunning) await xmpp.stop()
      xmppRunning = false
      clearInterval(expiryTimer)
      gateway?.stop()
      groups.stop()
      await messenger.stop()
      await network?.stop()
      network = undefined
      for (const identity of unlocked.values()) identity.seed.fill(0)
      unlocked.clear()
      accounts.clear()
      bridgeLog.info('bridge stopped')
    },
  }
}

import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Command } from 'commander'
import { startWebUi, type WebUi } from '../../../webui/server/server.js'
import { mergeLayers } from '../../config/load.js'
import { type Config, configSchema } from '../../config/schema.js'
import { startTestnet, TESTNET_CONFIG, type Testnet } from '../../dht/testnet.js'
import { ParanoimError } from '../../errors.js'
import type { Logger } from '../../log.js'
import { onionRelays, relayMailboxes } from '../../onion/testnet-relays.js'
import { type Bridge, createBridge } from '../../service/bridge.js'
import { openStore, type Store } from '../../store/index.js'
import type { XmppModule } from '../../xmpp/module.js'
import { type CliContext, loadContext } from '../context.js'
import { echoBotModule } from '../demo/echo-bot.js'
import { freePort } from '../demo/ports.js'
import { UsageError } from '../errors.js'
import { StopRequested, StopSignals } from '../signals.js'

/** The demo did not get ready in time (the network or the bot did not come up). */
export class DemoError extends ParanoimError {
  constructor(message: string) {
    super('CLI_DEMO', message)
  }
}

const USER = 'you'
const BOT = 'echo'
const BOT_NAME = 'Echo bot'
const READY_TIMEOUT_MS = 180_000
const POLL_MS = 250

interface DemoOptions {
  nodes: string
}

interface RunningBridge {
  bridge: Bridge
  store: Store
}

/** A line of progress on stderr, so stdout keeps only the connection block. */
function progress(line: string): void {
  process.stderr.write(`${line}\n`)
}

/** Polls `check` until true; stops early on Ctrl-C (StopRequested), gives up after READY_TIMEOUT_MS. */
async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  stop: StopSignals,
): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS
  while (!(await check())) {
    stop.check()
    if (Date.now() > deadline)
      throw new DemoError(`${what} did not happen within ${READY_TIMEOUT_MS / 1000} s`)
    await new Promise((resolve) => setTimeout(resolve, POLL_MS))
  }
}

function parseNodes(value: string): number {
  const nodes = Number(value)
  if (!Number.isInteger(nodes) || nodes < 8 || nodes > 200)
    throw new UsageError(`--nodes must be an integer from 8 to 200, got "${value}"`)
  return nodes
}

/** The user's bridge on the testnet, on the configured ports when free (else system-chosen), and the bot's. */
async function demoConfigs(config: Config, testnet: Testnet): Promise<{ user: Config; bot: Config }> {
  const { host } = config.xmpp
  const user = configSchema.parse(
    mergeLayers(config, {
      net: { host: '127.0.0.1', port: 0 },
      dht: { bootstrap: [`${testnet.bootstrap.host}:${testnet.bootstrap.port}`] },
      xmpp: {
        port: await freePort(host, config.xmpp.port),
        tlsPort: await freePort(host, config.xmpp.tlsPort),
      },
      webui: { port: await freePort(config.webui.host, config.webui.port) },
    }),
  )
  const bot = configSchema.parse(
    mergeLayers(user, { xmpp: { port: 0, tlsPort: 0 }, webui: { enabled: false } }),
  )
  return { user, bot }
}

async function startDemoBridge(
  config: Config,
  dataDir: string,
  log: Logger,
  xmppModules: XmppModule[] = [],
): Promise<RunningBridge> {
  const store = await openStore({ dataDir })
  const bridge = createBridge(config, { log, store, xmppModules })
  try {
    await bridge.start()
  } catch (err) {
    await store.close()
    throw err
  }
  return { bridge, store }
}

function connectionBlock(options: {
  bridge: Bridge
  password: string
  you: string
  echo: string
  webUiUrl: string | undefined
  root: string
}): string {
  const xmpp = options.bridge.status().xmpp!
  return [
    '',
    'ParanoIM demo is running — connect your Jabber client (Gajim, Pidgin, Profanity, Conversations…):',
    `  JID        ${USER}@${xmpp.domain}`,
    `  password   ${options.password}`,
    `  host       ${xmpp.host}`,
    `  port       ${xmpp.port} (STARTTLS)${xmpp.directTlsPort ? `, ${xmpp.directTlsPort} (direct TLS)` : ''}`,
    `  certificate SHA-256 ${xmpp.certificateSha256}`,
    `              SHA-1   ${xmpp.certificateSha1}`,
    `  contact    ${BOT_NAME}: ${options.echo}@${xmpp.domain}`,
    options.webUiUrl
      ? `  web UI     ${options.webUiUrl}  (log in as ${USER} with the password above)`
      : '  web UI     off',
    '',
    `Your address: ${options.you}`,
    `Data (deleted when the demo stops): ${options.root}`,
    'Stop with Ctrl-C.',
    '',
  ].join('\n')
}

/** What the demo started so far, stopped in reverse order whatever happens. */
interface Started {
  testnet?: Testnet
  bridges: RunningBridge[]
  webui?: WebUi
}

async function stopAll(started: Started): Promise<void> {
  await started.webui?.stop()
  for (const { bridge, store } of started.bridges.reverse()) {
    await bridge.stop().catch(() => {})
    await store.close().catch(() => {})
  }
  await started.testnet?.stop()
}

/** The user's bridge and the bot's, each with its data dir under `root`. */
async function startBridges(
  configs: { user: Config; bot: Config },
  root: string,
  log: Logger,
  started: Started,
): Promise<{ user: Bridge; bot: Bridge }> {
  const user = await startDemoBridge(configs.user, join(root, USER), log)
  started.bridges.push(user)
  let botBridge: Bridge | undefined
  const bot = await startDemoBridge(configs.bot, join(root, BOT), log, [
    echoBotModule({
      account: BOT,
      approve: (from) => botBridge!.contacts.approve(BOT, from.split('@')[0]!),
    }),
  ])
  botBridge = bot.bridge
  started.bridges.push(bot)
  return { user: user.bridge, bot: bot.bridge }
}

/** Both accounts online through tunnels, the bot a mutual contact of the user under its name. */
async function meetTheBot(
  bridges: { user: Bridge; bot: Bridge },
  stop: StopSignals,
  started: number,
): Promise<{ password: string; you: string; echo: string }> {
  const { user, bot } = bridges
  const password = randomBytes(9).toString('base64url')
  const botPassword = randomBytes(18).toString('base64url')
  const you = (await user.identities.create(USER, password)).address
  const echo = (await bot.identities.create(BOT, botPassword)).address
  await user.unlock(USER, password)
  await bot.unlock(BOT, botPassword)
  progress('Building onion tunnels and publishing both addresses…')
  await waitFor('the tunnels', () => user.online(USER) && bot.online(BOT), stop)
  progress(
    `Tunnels up (${Math.round((Date.now() - started) / 1000)} s). Adding the echo bot as your contact…`,
  )
  await user.bindings.add(you, BOT_NAME, echo)
  await user.contacts.request(USER, echo, 'Hi, this is the demo user')
  const mutual = async () =>
    (await user.contacts.list(USER)).some((c) => c.address === echo && c.state === 'mutual')
  await waitFor('the echo bot’s answer to your contact request', mutual, stop)
  return { password, you, echo }
}

/** Starts everything (recorded in `started`); resolves with the block that tells the user how to connect. */
async function startDemo(
  nodes: number,
  context: CliContext,
  root: string,
  stop: StopSignals,
  started: Started,
): Promise<string> {
  const { config, log } = context
  const startedAt = Date.now()
  progress(`Starting a private network of ${nodes} nodes on 127.0.0.1…`)
  started.testnet = await startTestnet({
    nodes,
    config,
    log,
    attach: onionRelays(config.onion, log, relayMailboxes(config)),
  })
  stop.check()
  await started.testnet.discoverRelays()
  stop.check()
  const configs = await demoConfigs(config, started.testnet)
  progress('Starting your bridge and the echo bot’s bridge…')
  const bridges = await startBridges(configs, root, log, started)
  stop.check()
  const accounts = await meetTheBot(bridges, stop, startedAt)
  if (configs.user.webui.enabled)
    started.webui = await startWebUi({ config: configs.user, bridge: bridges.user, log })
  return connectionBlock({ ...accounts, bridge: bridges.user, webUiUrl: started.webui?.url, root })
}

/**
 * `paranoim demo`: a private testnet on 127.0.0.1, the user's bridge with a
 * ready account, and a second bridge whose echo bot is already the user's
 * contact — every message between them crosses real onion tunnels.
 */
export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('run a private network with your bridge and an echo bot to chat with (Ctrl-C stops it)')
    .option('-n, --nodes <count>', 'relay nodes of the private network', '12')
    .action(async (_options, command: Command) => {
      const nodes = parseNodes(command.opts<DemoOptions>().nodes)
      // The bridges' info logs would bury the progress lines and the connection block; --log-level still wins.
      const context = loadContext(command, {
        baseFiles: [TESTNET_CONFIG],
        commandDefaults: { log: { level: 'warn' } },
      })
      const root = await mkdtemp(join(tmpdir(), 'paranoim-demo-'))
      const stop = new StopSignals((signal) => progress(`${signal}: stopping…`))
      const started: Started = { bridges: [] }
      try {
        process.stdout.write(await startDemo(nodes, context, root, stop, started))
        await stop.next()
      } catch (err) {
        if (!(err instanceof StopRequested)) throw err
      } finally {
        await stopAll(started)
        await rm(root, { recursive: true, force: true })
        stop.dispose()
      }
    })
}

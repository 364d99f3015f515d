import type { Command } from 'commander'
import { loadConfig, mergeLayers, parseOverrides } from '../../config/load.js'
import { formatTestnetStatus, startTestnet, TESTNET_CONFIG } from '../../dht/testnet.js'
import { createLogger } from '../../log.js'
import { onionRelays, relayMailboxes } from '../../onion/testnet-relays.js'
import type { GlobalOptions } from '../context.js'
import { UsageError } from '../errors.js'
import { nextSignal } from '../signals.js'

interface TestnetOptions extends GlobalOptions {
  nodes: string
}

/**
 * `paranoim testnet --nodes N`: a private network of N relay nodes on
 * 127.0.0.1 (bridge/dht/testnet.ts, the same code the integration tests use),
 * with config/testnet.toml under any --config files.
 */
export function registerTestnetCommand(program: Command): void {
  program
    .command('testnet')
    .description('run a private network of relay nodes on 127.0.0.1 until interrupted (Ctrl-C)')
    .option('-n, --nodes <count>', 'how many nodes, the bootstrap node included', '20')
    .action(async (_options, command: Command) => {
      const options = command.optsWithGlobals<TestnetOptions>()
      const nodes = Number(options.nodes)
      if (!Number.isInteger(nodes) || nodes < 1 || nodes > 1000) {
        throw new UsageError(`--nodes must be an integer from 1 to 1000, got "${options.nodes}"`)
      }
      const flags = mergeLayers(
        parseOverrides(options.set),
        options.logLevel === undefined ? {} : { log: { level: options.logLevel } },
      )
      const config = loadConfig({ files: [TESTNET_CONFIG, ...options.config], overrides: flags })
      const log = createLogger(config.log)
      const started = Date.now()
      const tty = process.stderr.isTTY === true
      const net = await startTestnet({
        nodes,
        config,
        log,
        attach: onionRelays(config.onion, log, relayMailboxes(config)),
        onProgress: ({ joined, total, node }) => {
          const line = `joined ${joined}/${total} (node ${node.index} at ${node.endpoint.host}:${node.endpoint.port})`
          process.stderr.write(tty ? `\r${line}\u001b[K` : `${line}\n`)
        },
      })
      process.stderr.write(
        `${tty ? '\n' : ''}all ${nodes} nodes up in ${Date.now() - started} ms; finding relays…\n`,
      )
      await net.discoverRelays()
      process.stdout.write(`${formatTestnetStatus(net.status())}\n`)
      process.stderr.write(`bootstrap node: ${net.bootstrap.host}:${net.bootstrap.port} — stop with Ctrl-C\n`)
      const signal = await nextSignal()
      process.stderr.write(`${signal}: stopping ${nodes} nodes…\n`)
      await net.stop()
      process.stderr.write('stopped\n')
    })
}

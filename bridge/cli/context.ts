import type { Command } from 'commander'
import { loadConfig, mergeLayers, parseOverrides, resolveDataDir, type Tree } from '../config/load.js'
import type { Config } from '../config/schema.js'
import { createLogger, type Logger } from '../log.js'
import { openStore, type Store } from '../store/index.js'

/** The options every command accepts (see program.ts). */
export interface GlobalOptions {
  dataDir?: string
  config: string[]
  set: string[]
  logLevel?: string
}

/** What a command works with: the validated config, the data dir in force, a logger. */
export interface CliContext {
  config: Config
  dataDir: string
  log: Logger
}

/**
 * Defaults ← `baseFiles` ← --config files in order ← `commandDefaults` ← --set ←
 * --data-dir / --log-level.
 */
export function loadContext(
  command: Command,
  { baseFiles = [] as string[], commandDefaults = {} as Tree } = {},
): CliContext {
  const options = command.optsWithGlobals<GlobalOptions>()
  const flags = mergeLayers(
    commandDefaults,
    parseOverrides(options.set),
    options.dataDir === undefined ? {} : { store: { dataDir: options.dataDir } },
    options.logLevel === undefined ? {} : { log: { level: options.logLevel } },
  )
  const config = loadConfig({ files: [...baseFiles, ...options.config], overrides: flags })
  return { config, dataDir: resolveDataDir(config, process.env), log: createLogger(config.log) }
}

/** Opens the data dir's store for the length of `task`. */
export async function withStore<T>(context: CliContext, task: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore({ dataDir: context.dataDir })
  try {
    return await task(store)
  } finally {
    await store.close()
  }
}

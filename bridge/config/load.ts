import { readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { parse as parseToml } from 'smol-toml'
import type { z } from 'zod'
import { ConfigError } from './errors.js'
import { type Config, configSchema } from './schema.js'

export type Tree = Record<string, unknown>

const isTree = (v: unknown): v is Tree => typeof v === 'object' && v !== null && !Array.isArray(v)

/** Later layers win; arrays and scalars replace, tables merge key by key. */
export function mergeLayers(...layers: Tree[]): Tree {
  const out: Tree = {}
  for (const layer of layers) {
    for (const [key, value] of Object.entries(layer)) {
      const prev = out[key]
      out[key] = isTree(prev) && isTree(value) ? mergeLayers(prev, value) : value
    }
  }
  return out
}

export function parseConfigText(text: string, source: string): Tree {
  try {
    return parseToml(text) as Tree
  } catch (err) {
    throw new ConfigError(`${source}: not valid TOML: ${(err as Error).message}`)
  }
}

export function readConfigFile(path: string): Tree {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path}: ${(err as NodeJS.ErrnoException).code ?? err}`)
  }
  return parseConfigText(text, path)
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.join('.') || '(top level)'
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => (issue.path.length ? `${path}.${k}` : k))
    return `unknown key ${keys.join(', ')}`
  }
  return `${path}: ${issue.message}`
}

/** Validates a merged tree into the typed Config, naming every bad key and what was expected. */
export function validateConfig(tree: Tree, source = 'config'): Config {
  const result = configSchema.safeParse(tree)
  if (result.success) return result.data
  throw new ConfigError(`${source} is invalid:\n  ${result.error.issues.map(describeIssue).join('\n  ')}`)
}

/**
 * "a.b.c=value" flags (from `--set`) to a tree. Values are read as TOML so
 * numbers, booleans and arrays keep their types; anything else is a string.
 */
export function parseOverrides(pairs: string[]): Tree {
  const layers = pairs.map((pair) => {
    const eq = pair.indexOf('=')
    if (eq <= 0) throw new ConfigError(`--set expects key=value, got "${pair}"`)
    const key = pair.slice(0, eq).trim()
    const raw = pair.slice(eq + 1).trim()
    let value: unknown
    try {
      value = (parseToml(`v = ${raw}`) as Tree).v
    } catch {
      value = raw
    }
    return key.split('.').reduceRight<unknown>((acc, part) => ({ [part]: acc }), value) as Tree
  })
  return mergeLayers(...layers)
}

export interface LoadOptions {
  /** Extra config files, applied in order over the defaults. */
  files?: string[]
  /** Tree from CLI flags, applied last. */
  overrides?: Tree
}

export function loadConfig(options: LoadOptions = {}): Config {
  const layers = (options.files ?? []).map(readConfigFile)
  const source = options.files?.length ? options.files.join(' + ') : 'config'
  return validateConfig(mergeLayers(...layers, options.overrides ?? {}), source)
}

/** The data directory in force: the configured one, else the XDG data home. */
export function resolveDataDir(config: Config, env: NodeJS.ProcessEnv): string {
  if (config.store.dataDir) return config.store.dataDir
  const base = env.XDG_DATA_HOME || join(homedir(), '.local', 'share')
  return join(base, 'paranoim')
}

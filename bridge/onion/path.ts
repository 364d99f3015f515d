import { type RelayDirectory, type RelayEntry, relayId } from '../dht/relay-directory.js'
import { OnionError } from './errors.js'
import type { RelayTarget } from './host.js'

export const targetOf = (entry: RelayEntry): RelayTarget => ({
  nodeKey: entry.descriptor.nodeKey,
  endpoint: { ...entry.endpoint },
})

export const targetId = (target: { nodeKey: Uint8Array }): string => relayId(target.nodeKey)

export interface PathOptions {
  /** Relays never chosen (this node, the path's fixed end, hops already in the path). */
  exclude?: Iterable<string>
  /** Relays chosen only when the directory has too few others (the other direction's relays). */
  avoid?: Iterable<string>
  now: number
}

/**
 * `count` distinct relays from the directory (its selection spreads them over
 * /16 networks and skips low reputation). Relays in `avoid` are used only when
 * nothing else is left. Throws OnionError NO_PATH when even that is too few.
 */
export function selectPath(directory: RelayDirectory, count: number, options: PathOptions): RelayTarget[] {
  const exclude = new Set(options.exclude ?? [])
  const avoid = new Set(options.avoid ?? [])
  const chosen = directory.select(count, { exclude: new Set([...exclude, ...avoid]), now: options.now })
  if (chosen.length < count) {
    const taken = new Set([...exclude, ...chosen.map((e) => e.id)])
    chosen.push(...directory.select(count - chosen.length, { exclude: taken, now: options.now }))
  }
  if (chosen.length < count)
    throw new OnionError('NO_PATH', `the directory has ${chosen.length} usable relays for a path of ${count}`)
  return chosen.map(targetOf)
}

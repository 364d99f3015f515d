import type { BatchOp } from './level.js'
import type { Store } from './store.js'

/**
 * One step of the schema. Migrations run in order at open, each at most once:
 * the store commits the writes `up` returns together with the new version in
 * one atomic batch, so a crash leaves the data either before or after a step.
 * A migration reads the old records through tables with codecs it defines
 * itself (the shapes of that time), never through a layer's current code.
 */
export interface Migration {
  /** The schema version after this step: 1, 2, 3… without gaps. */
  version: number
  description: string
  up(store: Store): Promise<BatchOp[]>
}

/**
 * The schema of this program, oldest first. Append only: a released step is
 * never edited, since data dirs out there were written by it.
 */
export const migrations: readonly Migration[] = [
  {
    version: 1,
    description: 'initial schema: identities table',
    up: async () => [],
  },
]

import type { XmppModule } from '../module.js'
import { archiveModule } from './archive.js'
import { blockingModule } from './blocking.js'
import { capsModule } from './caps.js'
import { carbonsModule } from './carbons.js'
import { csiModule } from './csi.js'
import { discoModule } from './disco.js'
import { mucModule } from './muc/index.js'
import { pepModule } from './pep.js'
import { privateModule } from './private.js'
import { vcardModule } from './vcard.js'

/**
 * The extension modules a bridge loads (disco, carbons, MAM…), in setup order.
 * Modules keep per-server state in setup() (closures, `ctx.advertise`), so one
 * list serves every server in a process.
 * The core's own (roster, stream management, legacy session, ping) are always
 * loaded by server.ts; add new feature modules here.
 */
export const defaultModules: readonly XmppModule[] = [
  discoModule,
  capsModule,
  carbonsModule,
  csiModule,
  vcardModule,
  privateModule,
  pepModule,
  blockingModule,
  archiveModule,
  mucModule,
]

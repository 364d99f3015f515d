import { clone } from 'ltx'
import { jsonCodec } from '../store/index.js'
import type { XmppCore } from './core.js'
import type { ModuleContext, XmppModule } from './module.js'

/** The ModuleContext a module's setup() receives: the core's powers, scoped and logged under the module's name. */
export function moduleContext(core: XmppCore, module: XmppModule): ModuleContext {
  const log = core.log.child({ module: module.name })
  return {
    domain: core.domain,
    config: core.config,
    log,
    now: core.now,
    iq: (route, handler) => core.iqHandlers.add(route, handler),
    nonza: (name, xmlns, handler) => {
      const key = core.nonzaKey(name, xmlns)
      if (core.nonzas.has(key)) throw new Error(`two handlers for the nonza ${key}`)
      core.nonzas.set(key, handler)
    },
    hook: (name, handler, options) => core.hooks.add(name, handler, options?.priority),
    on: (name, listener) => {
      core.events.on(name, (event) => {
        try {
          listener(event)
        } catch (err) {
          log.error({ err, event: name }, 'event listener failed')
        }
      })
    },
    route: (stanza) => core.route(stanza, undefined),
    rebroadcastPresence: async (session) => {
      const client = core.sessions.byJid(session.jid)
      if (client?.available && client.presence) await core.fromClient(client, clone(client.presence))
    },
    sessions: {
      ofAccount: (account) => core.sessions.ofAccount(account),
      byJid: (jid) => core.sessions.byJid(jid),
    },
    accountExists: (account) => core.accountExists(account),
    roster: {
      items: async (account) => (await core.roster.list(account)).filter((item) => !item.hidden),
      item: (account, contact) => core.roster.get(account, contact.bareString),
    },
    component: (domain, handler) => {
      const name = domain.toLowerCase()
      if (name === core.domain || core.components.has(name)) throw new Error(`${domain} is served already`)
      core.components.set(name, handler)
    },
    advertise: (what) => core.advertised.push(what),
    disco: (target) => core.disco(target),
    discoItems: () => core.discoItems(),
    table: (name, schema) => core.store.table(`xmpp-${module.name}-${name}`, jsonCodec(schema)),
  }
}

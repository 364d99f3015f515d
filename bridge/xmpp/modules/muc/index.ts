import { XMPPError } from '../../errors.js'
import { JID } from '../../jid.js'
import type { ComponentStanzaEvent, ModuleContext, XmppModule } from '../../module.js'
import { iqReply } from '../../stanza.js'
import { ClientStanzas } from './client.js'
import { MucIq, SERVICE_NAME } from './iq.js'
import { IqRelay } from './iq-relay.js'
import type { MucNetworkPort, MucRemote } from './port.js'
import { roomStore } from './room-store.js'
import { MucService } from './service.js'
import { NS_CONFERENCE } from './xml.js'

export type { MucAction, MucNetworkPort, MucRemote, RemoteOccupant } from './port.js'
export type { Affiliation, Role, RoomConfig } from './room.js'

export interface MucModule extends XmppModule {
  /** Applies the network's events to rooms; available once the server has started. */
  readonly remote: MucRemote
}

/**
 * XEP-0045 multi-user chat at `conference.<domain>` (docs/xmpp.md "MUC"): a
 * component of the core (ctx.component), so every stanza to the service, its
 * rooms and occupants arrives here whoever routes it. Only this bridge's
 * accounts use it directly; the network reaches rooms through `port` and `remote`.
 */
export function createMucModule(options: { port?: MucNetworkPort } = {}): MucModule {
  let service: MucService | undefined
  return {
    name: 'muc',
    get remote(): MucRemote {
      if (!service) throw new Error('the MUC module is not set up (server not started)')
      return service
    },
    async setup(ctx) {
      const limits = ctx.config.muc
      if (!limits.enabled) return
      const domain = `conference.${ctx.domain}`
      const muc = new MucService(ctx, domain, limits, roomStore(ctx), options.port)
      await muc.load()
      service = muc
      const clients = new ClientStanzas(muc)
      const iqs = new MucIq(muc)
      const relay = new IqRelay(muc)
      ctx.advertise({ items: [{ jid: domain, name: SERVICE_NAME }] })
      ctx.component(domain, (event) => handle(ctx, event, clients, iqs, relay))
      // A XEP-0249 direct invitation to one of our rooms admits the invitee too (client.ts directInvite).
      ctx.hook('outbound', async ({ stanza, kind, from, to }) => {
        const x = kind === 'message' ? stanza.getChild('x', NS_CONFERENCE) : undefined
        const room = parsedJid(x?.attrs.jid)
        if (!room || room.domain !== domain || room.local === '' || to.local === '') return undefined
        await clients.directInvite(from, room.local, to, x?.attrs.reason).catch((err: unknown) => {
          ctx.log.debug({ err }, 'direct invitation not turned into an admission')
        })
        return undefined
      })
    },
  }
}

/** A JID attribute, or undefined when it is missing or malformed (the message goes on as it is). */
function parsedJid(text: string | undefined): JID | undefined {
  try {
    return JID.parseOptional(text)
  } catch {
    return undefined
  }
}

/** A fault of this module is logged and answered as internal-server-error, never ends the client's stream. */
async function handle(
  ctx: ModuleContext,
  event: ComponentStanzaEvent,
  clients: ClientStanzas,
  iqs: MucIq,
  relay: IqRelay,
) {
  try {
    await dispatch(ctx, event, clients, iqs, relay)
  } catch (err) {
    if (err instanceof XMPPError) throw err
    ctx.log.error({ err, kind: event.kind }, 'MUC stanza failed')
    throw new XMPPError('internal-server-error')
  }
}

async function dispatch(
  ctx: ModuleContext,
  event: ComponentStanzaEvent,
  clients: ClientStanzas,
  iqs: MucIq,
  relay: IqRelay,
) {
  const { stanza, kind, from, to } = event
  // Rooms are for this bridge's own clients; the network joins them through the port, never by stanzas.
  if (from.domain !== ctx.domain || from.isBare || !ctx.sessions.byJid(from))
    throw new XMPPError('service-unavailable', 'this MUC service serves the accounts of this bridge')
  if (kind === 'presence') return clients.presence(from, to, stanza)
  if (kind === 'message') return clients.message(from, to, stanza)
  if (to.local !== '' && to.resource !== '') return relay.iq(from, to, stanza)
  const type = stanza.attrs.type
  if (type !== 'get' && type !== 'set') return
  await ctx.route(await iqReply(stanza, from.toString(), to.toString(), () => iqs.answer(from, to, stanza)))
}

/** The MUC service of the default module list (no network port: rooms are local-only). */
export const mucModule: XmppModule = createMucModule()

import { randomBytes } from 'node:crypto'
import { createElement, type Element, parse } from 'ltx'
import { type StanzaErrorCondition, XMPPError } from '../errors.js'
import { JID } from '../jid.js'
import type { ModuleContext, Session, XmppModule } from '../module.js'
import type { RosterItem } from '../roster-store.js'
import { clientFeatures } from './caps.js'
import { formFields, formType, NS_DATA } from './data-form.js'
import { ownSession } from './own-session.js'
import {
  type AccessModel,
  accessModels,
  type NodeConfig,
  type PepItem,
  type PepStore,
  pepStore,
} from './pep-store.js'

const WHY = 'only the account itself publishes to its PEP service'

export const NS_PUBSUB = 'http://jabber.org/protocol/pubsub'
export const NS_PUBSUB_EVENT = 'http://jabber.org/protocol/pubsub#event'
const NS_PUBSUB_OWNER = 'http://jabber.org/protocol/pubsub#owner'
const NS_PUBSUB_ERRORS = 'http://jabber.org/protocol/pubsub#errors'
const PUBLISH_OPTIONS = `${NS_PUBSUB}#publish-options`

/** What `pubsub#max_items = max` means here: a bound on one node's storage. */
const MAX_ITEMS_PER_NODE = 1000
/** Nodes one account may create. */
const MAX_NODES_PER_ACCOUNT = 200

/** XEP-0163 §4: the PEP defaults, a node per payload kind, its latest item only, for presence subscribers. */
const DEFAULT_CONFIG: NodeConfig = { access: 'presence', maxItems: 1 }

const FEATURES = [
  'access-open',
  'access-presence',
  'access-whitelist',
  'auto-create',
  'delete-nodes',
  'item-ids',
  'last-published',
  'multi-items',
  'persistent-items',
  'publish',
  'publish-options',
  'retract-items',
  'retrieve-items',
].map((feature) => `${NS_PUBSUB}#${feature}`)

const truthy = (value: string | undefined) => value === 'true' || value === '1'
const hasFrom = (item: RosterItem | undefined) =>
  item?.subscription === 'from' || item?.subscription === 'both'
const hasTo = (item: RosterItem | undefined) => item?.subscription === 'to' || item?.subscription === 'both'

/** An XEP-0060 error: a stanza condition with its `pubsub#errors` condition (e.g. `<nodeid-required/>`). */
function pubsubError(condition: StanzaErrorCondition, pubsubCondition: string, text?: string): XMPPError {
  return new XMPPError(condition, text, {
    appCondition: createElement(pubsubCondition, { xmlns: NS_PUBSUB_ERRORS }),
  })
}

function nodeOf(element: Element): string {
  const node = element.attrs.node
  if (!node) throw pubsubError('bad-request', 'nodeid-required')
  return node
}

/**
 * XEP-0060 §7.1.5 / XEP-0223: publish-options the node must have. Known fields
 * configure the node (created or already there); one this service cannot honour
 * is a failed precondition.
 */
function withOptions(config: NodeConfig, options: Element | undefined): NodeConfig {
  const form = options?.getChild('x', NS_DATA)
  if (!form) return config
  if (formType(form) !== PUBLISH_OPTIONS) throw new XMPPError('bad-request', 'not a publish-options form')
  const next = { ...config }
  for (const [field, [value]] of formFields(form)) {
    if (field === 'FORM_TYPE') continue
    if (field === 'pubsub#access_model' && accessModels.includes(value as AccessModel))
      next.access = value as AccessModel
    else if (field === 'pubsub#max_items' && value === 'max') next.maxItems = MAX_ITEMS_PER_NODE
    else if (field === 'pubsub#max_items' && /^\d+$/.test(value ?? '') && Number(value) >= 1)
      next.maxItems = Math.min(Number(value), MAX_ITEMS_PER_NODE)
    // Always so here: items persist (XEP-0223), events carry payloads, the last item goes out on presence.
    else if ((field === 'pubsub#persist_items' || field === 'pubsub#deliver_payloads') && truthy(value))
      continue
    // Event and last-item policies: this service notifies as XEP-0163 says, whatever is asked.
    else if (field === 'pubsub#send_last_published_item' || field.startsWith('pubsub#notify_')) continue
    else throw pubsubError('conflict', 'precondition-not-met', `${field}=${value ?? ''}`)
  }
  return next
}

/** The local accounts among bare JIDs (remote contacts get events through the gateway, later). */
function localAccounts(domain: string, jids: readonly string[]): string[] {
  return jids
    .map((jid) => JID.parse(jid))
    .flatMap((jid) => (jid.domain === domain && jid.local !== '' ? [jid.local] : []))
}

const itemElement = (item: Pick<PepItem, 'id' | 'xml'>) =>
  createElement('item', { id: item.id }, parse(item.xml))
const eventOf = (...children: Element[]) => createElement('event', { xmlns: NS_PUBSUB_EVENT }, ...children)

/**
 * XEP-0163 personal eventing on each account's bare JID, persistent per
 * XEP-0223: publish (auto-create, publish-options), retract, delete, retrieve,
 * and events to the account's resources and its presence subscribers among
 * local accounts whose clients asked for them (`<node>+notify` in XEP-0115 caps),
 * including the last item when such a client comes online. Bookmarks
 * (XEP-0402, and XEP-0048 on PEP) are ordinary nodes here.
 */
export const pepModule: XmppModule = {
  name: 'pep',
  accountFeatures: FEATURES,
  accountIdentities: [{ category: 'pubsub', type: 'pep' }],
  setup(ctx) {
    const store = pepStore(ctx)
    const events = pepEvents(ctx, store)

    ctx.iq({ type: 'set', name: 'pubsub', xmlns: NS_PUBSUB, on: ['account'] }, async (req) => {
      const account = ownSession(req, WHY).account
      const publish = req.payload.getChild('publish')
      if (publish) return publishItem(account, publish, req.payload.getChild('publish-options'))
      const retract = req.payload.getChild('retract')
      if (retract) return retractItems(account, retract)
      throw new XMPPError('feature-not-implemented', 'this PEP service publishes, retracts and retrieves')
    })

    async function publishItem(account: string, publish: Element, options: Element | undefined) {
      const node = nodeOf(publish)
      const items = publish.getChildren('item')
      const payloads = items[0]?.getChildElements() ?? []
      if (items.length !== 1 || payloads.length !== 1)
        throw pubsubError('bad-request', payloads.length === 0 ? 'payload-required' : 'invalid-payload')
      const existing = await store.config(account, node)
      if (!existing && (await store.countNodes(account)) >= MAX_NODES_PER_ACCOUNT)
        throw new XMPPError('resource-constraint', 'too many PEP nodes')
      const config = withOptions(existing ?? DEFAULT_CONFIG, options)
      await store.configure(account, node, config)
      const item = { id: items[0]?.attrs.id || randomBytes(8).toString('hex'), xml: payloads[0]!.toString() }
      await store.publish(account, node, item.id, item.xml, config.maxItems)
      events.notify(account, node, config, eventOf(createElement('items', { node }, itemElement(item))))
      return createElement(
        'pubsub',
        { xmlns: NS_PUBSUB },
        createElement('publish', { node }, createElement('item', { id: item.id })),
      )
    }

    async function retractItems(account: string, retract: Element) {
      const node = nodeOf(retract)
      const config = await store.config(account, node)
      if (!config) throw new XMPPError('item-not-found', `no node ${node}`)
      const ids = retract.getChildren('item').map((item) => item.attrs.id ?? '')
      if (ids.length === 0 || ids.includes('')) throw pubsubError('bad-request', 'item-required')
      const gone: string[] = []
      for (const id of ids) if (await store.retract(account, node, id)) gone.push(id)
      if (gone.length === 0) throw new XMPPError('item-not-found', 'no such item')
      if (truthy(retract.attrs.notify)) {
        const retracts = gone.map((id) => createElement('retract', { id }))
        events.notify(account, node, config, eventOf(createElement('items', { node }, ...retracts)))
      }
      return undefined
    }

    ctx.iq({ type: 'get', name: 'pubsub', xmlns: NS_PUBSUB, on: ['account'] }, async (req) => {
      const request = req.payload.getChild('items')
      if (!request || req.account === undefined)
        throw new XMPPError('feature-not-implemented', 'only item retrieval is answered')
      const node = nodeOf(request)
      const config = await store.config(req.account, node)
      if (!config) throw new XMPPError('item-not-found', `no node ${node}`)
      await checkAccess(req.account, config.access, req.from)
      const wanted = request.getChildren('item').map((item) => item.attrs.id)
      let items = await store.items(req.account, node)
      if (wanted.length > 0) items = items.filter((item) => wanted.includes(item.id))
      const max = Number(request.attrs.max_items)
      if (Number.isInteger(max) && max > 0) items = items.slice(-max)
      return createElement(
        'pubsub',
        { xmlns: NS_PUBSUB },
        createElement('items', { node }, ...items.map(itemElement)),
      )
    })

    async function checkAccess(owner: string, access: AccessModel, requester: JID): Promise<void> {
      if (access === 'open' || (requester.local === owner && requester.domain === ctx.domain)) return
      // XEP-0060 §6.5.9.3-4: presence-subscription-required / closed-node.
      if (access === 'whitelist') throw pubsubError('not-allowed', 'closed-node')
      if (!hasFrom(await ctx.roster.item(owner, requester.bare)))
        throw pubsubError('not-authorized', 'presence-subscription-required')
    }

    ctx.iq({ type: 'set', name: 'pubsub', xmlns: NS_PUBSUB_OWNER, on: ['account'] }, async (req) => {
      const account = ownSession(req, WHY).account
      const del = req.payload.getChild('delete')
      if (!del) throw new XMPPError('feature-not-implemented', 'only node deletion is offered to owners')
      const node = nodeOf(del)
      const config = await store.config(account, node)
      if (!config) throw new XMPPError('item-not-found', `no node ${node}`)
      await store.deleteNode(account, node)
      events.notify(account, node, config, eventOf(createElement('delete', { node })))
      return undefined
    })

    // A contact newly subscribed to the account's presence gets its last items at once, not at its next login.
    ctx.on('roster-changed', ({ account, jid, item }) => {
      if (!hasFrom(item)) return
      for (const contact of localAccounts(ctx.domain, [jid.bareString]))
        for (const session of ctx.sessions.ofAccount(contact))
          if (session.available)
            events
              .sendLastItems(session, [account])
              .catch((err) => ctx.log.warn({ err }, 'last PEP items not sent'))
    })

    // XEP-0163 §4.3.3: a client coming online gets the last item of each node it wants events of.
    ctx.hook('outbound', (event) => {
      const { stanza, session } = event
      if (event.kind !== 'presence' || stanza.attrs.type !== undefined || session.available) return undefined
      if (!event.to.equals(event.from.bare)) return undefined
      events.sendLastItems(session).catch((err) => ctx.log.warn({ err }, 'last PEP items not sent'))
      return undefined
    })
  },
}

/** Who gets which PEP event, and sending it. */
function pepEvents(ctx: ModuleContext, store: PepStore) {
  function eventMessage(owner: string, to: Session, event: Element): Element {
    return createElement(
      'message',
      {
        type: 'headline',
        id: randomBytes(8).toString('hex'),
        from: `${owner}@${ctx.domain}`,
        to: to.jid.toString(),
      },
      event,
    )
  }

  /** The account itself, and (unless the node is whitelist-only) the local accounts subscribed to its presence. */
  async function audience(owner: string, access: AccessModel): Promise<string[]> {
    if (access === 'whitelist') return [owner]
    return [
      owner,
      ...localAccounts(
        ctx.domain,
        (await ctx.roster.items(owner)).filter(hasFrom).map((item) => item.jid),
      ),
    ]
  }

  async function send(owner: string, session: Session, node: string, event: Element): Promise<void> {
    if (!session.available || !(await clientFeatures(session)).has(`${node}+notify`)) return
    await ctx.route(eventMessage(owner, session, event))
  }

  return {
    /** Sends `event` to every interested session; in the background, as a client may be slow to tell its caps. */
    notify(owner: string, node: string, config: NodeConfig, event: Element): void {
      void audience(owner, config.access)
        .then((accounts) =>
          Promise.all(
            accounts.flatMap((account) =>
              ctx.sessions.ofAccount(account).map((session) => send(owner, session, node, event)),
            ),
          ),
        )
        .catch((err) => ctx.log.warn({ err, node }, 'PEP event not delivered'))
    },

    /** XEP-0163 §4.3.3: the last item of each node of `owners` the session wants and may see. */
    async sendLastItems(session: Session, owners?: readonly string[]): Promise<void> {
      const wanted = [...(await clientFeatures(session))]
        .filter((feature) => feature.endsWith('+notify'))
        .map((feature) => feature.slice(0, -'+notify'.length))
      if (wanted.length === 0) return
      const contacts = (await ctx.roster.items(session.account)).filter(hasTo).map((item) => item.jid)
      for (const owner of owners ?? [session.account, ...localAccounts(ctx.domain, contacts)]) {
        for (const node of wanted) {
          const config = await store.config(owner, node)
          if (!config || !(await audience(owner, config.access)).includes(session.account)) continue
          const last = (await store.items(owner, node)).at(-1)
          if (!last) continue
          await ctx.route(
            eventMessage(owner, session, eventOf(createElement('items', { node }, itemElement(last)))),
          )
        }
      }
    },
  }
}

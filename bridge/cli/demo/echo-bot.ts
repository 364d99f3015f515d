import { randomUUID } from 'node:crypto'
import { createElement, type Element } from 'ltx'
import type { XmppModule } from '../../xmpp/module.js'

const RECEIPTS = 'urn:xmpp:receipts'

export const HELP_TEXT = [
  'I am the ParanoIM demo contact, on another bridge: your messages reach me through onion tunnels.',
  'Send me anything and I send it back. Commands: "help" (this text), "time" (my clock), "stats" (what I saw).',
].join('\n')

export interface EchoBotOptions {
  /** The bot's account (nickname) on its bridge. */
  account: string
  /** Accepts a contact request (and asks back): the bridge's ContactsService.approve. */
  approve(from: string): Promise<void>
}

/**
 * The bot's resource. The gateway counts only presence from a resource as the
 * account's own (bare-JID presence would leave it "unavailable"), and then
 * repeats it to every mutual contact on its heartbeat.
 */
const RESOURCE = 'echo-bot'

/**
 * The demo's contact: an XMPP module on its own bridge that answers as the
 * account would — accepts contact requests, shows itself online, answers
 * probes, and echoes every chat message (with a receipt, XEP-0184).
 */
export function echoBotModule(options: EchoBotOptions): XmppModule {
  const { account } = options
  return {
    name: 'demo-echo-bot',
    setup(ctx) {
      const self = `${account}@${ctx.domain}/${RESOURCE}`
      let received = 0
      const send = (stanza: Element, what: string) =>
        ctx
          .route(stanza)
          .catch((err: unknown) => ctx.log.warn({ err, to: stanza.attrs.to }, `${what} not sent`))
      const sendPresence = (to: string) =>
        send(
          createElement('presence', { from: self, to }, createElement('status').t('Echo bot: send "help"')),
          'presence',
        )
      const reply = async (to: string, text: string, receiptFor?: string) => {
        if (receiptFor)
          await send(
            createElement(
              'message',
              { from: self, to, id: randomUUID() },
              createElement('received', { xmlns: RECEIPTS, id: receiptFor }),
            ),
            'receipt',
          )
        await send(
          createElement(
            'message',
            { type: 'chat', from: self, to, id: randomUUID() },
            createElement('body').t(text),
          ),
          'echo',
        )
      }
      const answer = (text: string): string => {
        const command = text.trim().toLowerCase()
        if (command === 'help') return HELP_TEXT
        if (command === 'time') return `My clock says ${new Date(ctx.now()).toISOString()}`
        if (command === 'stats') return `I received ${received} message(s) since I started.`
        return `echo: ${text}`
      }

      ctx.hook('inbound', (event) => {
        if (event.account !== account) return undefined
        const from = event.from.bareString
        const type = event.stanza.attrs.type
        if (event.kind === 'presence') {
          if (type === 'subscribe') setImmediate(() => void options.approve(from).catch(() => {}))
          if (type === 'subscribed' || type === 'probe') void sendPresence(from)
          return type === 'probe' ? 'handled' : undefined
        }
        if (event.kind !== 'message') return undefined
        const body = event.stanza.getChildText('body')
        if (body === null) return 'handled'
        received++
        const wantsReceipt = event.stanza.getChild('request', RECEIPTS) !== undefined
        void reply(from, answer(body), wantsReceipt ? event.stanza.attrs.id : undefined)
        return 'handled'
      })
    },
  }
}

import { createHash } from 'node:crypto'
import { createElement, type Element, parse } from 'ltx'
import { z } from 'zod'
import type { XmppModule } from '../module.js'
import { ownSession } from './own-session.js'

const WHY = 'only the account itself may change its vCard'

export const NS_VCARD = 'vcard-temp'
const NS_VCARD_UPDATE = 'vcard-temp:x:update'

const storedCard = z.strictObject({
  /** The `<vCard/>` as the client set it. */
  xml: z.string(),
  /** XEP-0153 §4.1: SHA-1 (hex) of the photo's binary data; absent without a photo. */
  photoHash: z.string().optional(),
})

/** The SHA-1 of PHOTO/BINVAL's bytes (XEP-0153 §2), undefined when the card has no photo. */
function photoHash(card: Element): string | undefined {
  const binval = card.getChild('PHOTO')?.getChildText('BINVAL')
  if (!binval) return undefined
  return createHash('sha1')
    .update(Buffer.from(binval.replace(/\s+/g, ''), 'base64'))
    .digest('hex')
}

/**
 * XEP-0054 vcard-temp, stored per account, readable by anyone who asks the
 * account's bare JID; and XEP-0153: the server puts the photo's hash into the
 * account's presence, so contacts know when to fetch the avatar, and
 * broadcasts that presence again when the photo changes.
 */
export const vcardModule: XmppModule = {
  name: 'vcard',
  features: [NS_VCARD],
  accountFeatures: [NS_VCARD],
  setup(ctx) {
    const cards = ctx.table('cards', storedCard)

    ctx.iq({ type: 'get', name: 'vCard', xmlns: NS_VCARD, on: ['account'] }, async (req) => {
      const stored = req.account === undefined ? undefined : await cards.get(req.account)
      // XEP-0054 §3.1 allows an empty vCard for "none"; clients handle it better than an error.
      return stored ? parse(stored.xml) : createElement('vCard', { xmlns: NS_VCARD })
    })

    ctx.iq({ type: 'set', name: 'vCard', xmlns: NS_VCARD, on: ['account'] }, async (req) => {
      const account = ownSession(req, WHY).account
      const before = await cards.get(account)
      const empty = req.payload.getChildElements().length === 0
      const hash = empty ? undefined : photoHash(req.payload)
      if (empty) await cards.del(account)
      else await cards.put(account, { xml: req.payload.toString(), photoHash: hash })
      // XEP-0153 §4.1: contacts learn of a new avatar from the next presence, so send it now.
      if (hash !== before?.photoHash)
        for (const session of ctx.sessions.ofAccount(account)) await ctx.rebroadcastPresence(session)
      return undefined
    })

    ctx.hook('outbound', async (event) => {
      if (event.kind !== 'presence' || event.stanza.attrs.type !== undefined) return undefined
      const stored = await cards.get(event.session.account)
      if (!stored) return undefined
      // XEP-0153 §4.2: the server knows the current photo; its hash replaces whatever the client claimed.
      event.stanza.remove('x', NS_VCARD_UPDATE)
      event.stanza.cnode(
        createElement(
          'x',
          { xmlns: NS_VCARD_UPDATE },
          createElement('photo', {}, ...(stored.photoHash ? [stored.photoHash] : [])),
        ),
      )
      return undefined
    })
  },
}

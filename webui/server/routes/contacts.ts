import { Router } from 'express'
import { z } from 'zod'
import { encodeAddress, parseAddress } from '../../../bridge/crypto/address.js'
import type { ContactView } from '../../../bridge/service/status.js'
import type { ContactsInfo } from '../../shared/api-types.js'
import { loggedInIdentity, parseBody, type RouteContext } from '../context.js'
import { WebUiError } from '../errors.js'

const requestBody = z.strictObject({ address: z.string().max(256), text: z.string().max(10_000) })
const answerBody = z.strictObject({ address: z.string().max(256) })

/**
 * Contacts and requests of the logged-in identity: the list, a request to an
 * address, and approving or denying an incoming request. Each acts through
 * the XMPP server's subscription state machine (bridge.contacts), so the
 * user's Jabber client sees the same change as a roster push; approving
 * also shows the messages the gateway held from that person. A change saved
 * but not sent (ContactNotSentError: the identity is locked, the outbox
 * full…) leaves as 502 (errors.ts).
 */
export function contactRoutes(ctx: RouteContext): Router {
  const router = Router()
  const { contacts } = ctx.services
  const maxText = ctx.config.gateway.maxRequestTextChars
  const find = async (nickname: string, address: string): Promise<ContactView | undefined> =>
    (await contacts.list(nickname)).find((c) => c.address === address)

  router.get('/api/contacts', async (_req, res) => {
    const { nickname } = await loggedInIdentity(ctx, res)
    const info: ContactsInfo = {
      contacts: await contacts.list(nickname),
      held: await contacts.held(nickname),
      maxRequestTextChars: maxText,
    }
    res.json(info)
  })

  router.post('/api/contacts/request', async (req, res) => {
    const identity = await loggedInIdentity(ctx, res)
    const body = parseBody(requestBody, req.body)
    const address = canonicalAddress(body.address)
    if (address === identity.address)
      throw new WebUiError(400, 'OWN_ADDRESS', 'this is your own address; ask for someone else’s')
    if ((await find(identity.nickname, address))?.state === 'mutual')
      throw new WebUiError(409, 'ALREADY_CONTACT', 'this address is already one of your contacts')
    const text = checkRequestText(body.text, maxText)
    await ctx.unlocks.ready(identity.nickname)
    await contacts.request(identity.nickname, address, text)
    res.json({})
  })

  for (const answer of ['approve', 'deny'] as const) {
    router.post(`/api/contacts/${answer}`, async (req, res) => {
      const { nickname } = await loggedInIdentity(ctx, res)
      const address = canonicalAddress(parseBody(answerBody, req.body).address)
      // Only requests are answered here: approving ahead of a request (pre-approval) is a client's business.
      if ((await find(nickname, address))?.state !== 'request-in')
        throw new WebUiError(409, 'NO_REQUEST', 'there is no request from this address (any more)')
      await ctx.unlocks.ready(nickname)
      await contacts[answer](nickname, address)
      res.json({})
    })
  }

  return router
}

/**
 * The same checks as bindings: AddressError names a wrong length, character,
 * checksum or version (400). Spaces go first: pages show addresses in groups of 4.
 */
function canonicalAddress(text: string): string {
  return encodeAddress(parseAddress(text.replace(/\s/g, '')))
}

/** Control characters (but tab and line breaks), lone surrogates and U+FFFE/U+FFFF: XML cannot carry them. */
const NOT_XML_TEXT = /(?![\t\n\r])[\p{Cc}\p{Cs}\uFFFE\uFFFF]/u

/** The request text travels in a `<status/>`: trimmed, at most `max` characters, only characters XML allows. */
function checkRequestText(raw: string, max: number): string {
  const text = raw.trim()
  const length = [...text].length
  if (length > max) {
    throw new WebUiError(
      400,
      'REQUEST_TEXT_TOO_LONG',
      `a request text has at most ${max} characters; this one has ${length}`,
    )
  }
  if (NOT_XML_TEXT.test(text))
    throw new WebUiError(400, 'REQUEST_TEXT_INVALID', 'the request text contains a control character')
  return text
}

import { XMPPError } from '../errors.js'
import type { IqRequest, Session } from '../module.js'

/**
 * The requesting session, when it belongs to the account the IQ addresses:
 * private data (storage, blocklist, archive, publishing) is the account's own
 * business. Anyone else gets `forbidden`, with `why` as the text.
 */
export function ownSession(req: IqRequest, why: string): Session {
  if (req.session === undefined || req.account === undefined || req.session.account !== req.account)
    throw new XMPPError('forbidden', why)
  return req.session
}

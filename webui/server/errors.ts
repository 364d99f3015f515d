import type { ErrorRequestHandler } from 'express'
import { CryptoError } from '../../bridge/crypto/errors.js'
import { ParanoimError } from '../../bridge/errors.js'
import type { Logger } from '../../bridge/log.js'
import { BindingError } from '../../bridge/service/bindings.js'
import { ContactNotSentError } from '../../bridge/service/contacts.js'
import { IdentityError } from '../../bridge/service/errors.js'

/** A refusal with its HTTP status; the browser shows `message` as is. */
export class WebUiError extends ParanoimError {
  readonly status: number

  constructor(status: number, code: string, message: string) {
    super(code, message)
    this.status = status
  }
}

/** Errors of the layers below that mean "your input is wrong", with the status that says how. */
function inputErrorStatus(err: unknown): number | undefined {
  if (!(err instanceof CryptoError || err instanceof IdentityError || err instanceof BindingError))
    return undefined
  if (err.code.endsWith('_NOT_FOUND')) return 404
  if (err.code.endsWith('_EXISTS') || err.code.endsWith('_TAKEN')) return 409
  return 400
}

/** Done on this bridge but not passed on (the identity is locked, the outbox is full…): the gateway's refusal, 502. */
function networkErrorStatus(err: unknown): number | undefined {
  return err instanceof ContactNotSentError ? 502 : undefined
}

/** Every error leaves as `{ error: { code, message } }`; unexpected ones without details. */
export function errorHandler(log: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const status = err instanceof WebUiError ? err.status : (inputErrorStatus(err) ?? networkErrorStatus(err))
    if (status !== undefined) {
      res.status(status).json({ error: { code: err.code, message: err.message } })
      return
    }
    // body-parser marks its own errors (too large, bad JSON) with a status.
    const parserStatus = (err as { status?: unknown }).status
    if (typeof parserStatus === 'number' && parserStatus >= 400 && parserStatus < 500) {
      res.status(parserStatus).json({ error: { code: 'BAD_REQUEST', message: (err as Error).message } })
      return
    }
    log.error(
      { err: { name: (err as Error).name, message: (err as Error).message }, path: req.path },
      'request failed',
    )
    res.status(500).json({ error: { code: 'INTERNAL', message: 'internal error (see the bridge log)' } })
  }
}

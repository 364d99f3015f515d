import { createHmac } from 'node:crypto'
import type { Accounts } from '../accounts.js'
import { SaslError } from './errors.js'
import { type ChannelBindings, type ScramHash, ScramServer } from './scram.js'

export type SaslStep =
  | { challenge: Buffer }
  | { success: { account: string; clientKey: Uint8Array; additional?: Buffer } }

/** One SASL exchange on the server side: the initial response, then one step per `<response/>`. */
export interface SaslMechanism {
  start(initial: Buffer): Promise<SaslStep>
  step(response: Buffer): Promise<SaslStep>
}

export interface SaslContext {
  accounts: Accounts
  /** TLS is on: PLAIN and channel binding are possible. */
  secure: boolean
  bindings: ChannelBindings | null
  /** A per-server secret so that unknown users get stable decoy salts. */
  decoySecret: Uint8Array
  decoyIterations: number
}

const SCRAM: Record<string, { hash: ScramHash; plus: boolean }> = {
  'SCRAM-SHA-256-PLUS': { hash: 'SHA-256', plus: true },
  'SCRAM-SHA-1-PLUS': { hash: 'SHA-1', plus: true },
  'SCRAM-SHA-256': { hash: 'SHA-256', plus: false },
  'SCRAM-SHA-1': { hash: 'SHA-1', plus: false },
}

/** The mechanisms offered on this stream, strongest first (RFC 6120 §6.3.3). PLAIN never without TLS. */
export function offeredMechanisms(ctx: Pick<SaslContext, 'secure' | 'bindings'>): string[] {
  const canBind = ctx.bindings !== null && ctx.bindings.types.length > 0
  return Object.entries(SCRAM)
    .filter(([, { plus }]) => !plus || canBind)
    .map(([name]) => name)
    .concat(ctx.secure ? ['PLAIN'] : [])
}

export function createMechanism(name: string, ctx: SaslContext): SaslMechanism {
  if (!offeredMechanisms(ctx).includes(name)) {
    throw new SaslError(
      name === 'PLAIN' ? 'encryption-required' : 'invalid-mechanism',
      `${name} is not offered`,
    )
  }
  const scram = SCRAM[name]
  return scram ? scramMechanism(scram.hash, scram.plus, ctx) : plainMechanism(ctx)
}

function scramMechanism(hash: ScramHash, plus: boolean, ctx: SaslContext): SaslMechanism {
  const server = new ScramServer({
    hash,
    plus,
    bindings: ctx.bindings,
    lookup: (username) => ctx.accounts.scramCredential(username, hash),
    decoySalt: (username) => createHmac('sha256', ctx.decoySecret).update(username).digest().subarray(0, 16),
    decoyIterations: ctx.decoyIterations,
  })
  return {
    async start(initial) {
      return { challenge: Buffer.from(await server.start(utf8(initial))) }
    },
    async step(response) {
      const result = server.finish(utf8(response))
      checkAuthzid(server.authzid, result.username)
      return {
        success: {
          account: result.username,
          clientKey: result.clientKey,
          additional: Buffer.from(result.serverFinal),
        },
      }
    },
  }
}

/** RFC 4616. */
function plainMechanism(ctx: SaslContext): SaslMechanism {
  return {
    async start(initial) {
      const parts = utf8(initial).split('\0')
      if (parts.length !== 3)
        throw new SaslError('malformed-request', 'PLAIN needs authzid NUL authcid NUL password')
      const [authzid, authcid, password] = parts as [string, string, string]
      const account = authcid.toLowerCase()
      checkAuthzid(authzid, account)
      const clientKey = await ctx.accounts.checkPassword(account, password)
      if (!clientKey) throw new SaslError('not-authorized')
      return { success: { account, clientKey } }
    },
    async step() {
      throw new SaslError('malformed-request', 'PLAIN has a single step')
    },
  }
}

/** An authorization identity may only name the authenticated account itself (no proxy login). */
function checkAuthzid(authzid: string, account: string): void {
  if (authzid === '') return
  const local = authzid.split('@')[0]?.toLowerCase()
  if (local !== account) throw new SaslError('invalid-authzid', 'cannot act as another account')
}

function utf8(data: Buffer): string {
  const text = data.toString('utf8')
  if (!Buffer.from(text, 'utf8').equals(data)) throw new SaslError('incorrect-encoding', 'not UTF-8')
  return text
}

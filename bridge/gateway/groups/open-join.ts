import type { GroupsConfig } from '../../config/sections/groups.js'
import { CryptoError } from '../../crypto/errors.js'
import type { Identity } from '../../crypto/identity.js'
import type { Logger } from '../../log.js'
import { encodeGroupControl, type JoinRefusal } from '../../wire/group-control.js'
import { decodeGroupRendezvous, type GroupRendezvous } from '../../wire/group-rendezvous.js'
import { type GatewayCondition, GatewayError } from '../errors.js'
import type { GroupRecordPort } from './record-port.js'

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')

/** The client's error for each refusal an owner or admin sends (XEP-0045 §7.2). */
const REFUSAL_ERRORS: Record<Exclude<JoinRefusal, 'not-admitting'>, [GatewayCondition, string]> = {
  'members-only': ['registration-required', 'this room is members-only: ask an owner or admin to invite you'],
  banned: ['forbidden', 'you are banned from this room'],
  full: ['service-unavailable', 'this room is full'],
  'rate-limited': [
    'service-unavailable',
    'this room admits no more newcomers for now: try again in a minute',
  ],
}

type Outcome = { admitted: true } | { refused: JoinRefusal }

interface Pending {
  /** Addresses asked so far: only their refusals count. */
  readonly asked: Set<string>
  /** Set when the chain and key are in, even between two attempts. */
  admitted: boolean
  /** Settles the attempt under way (undefined: give up on this address). */
  answer?: (outcome: Outcome | undefined) => void
  done: Promise<void>
}

export interface OpenJoinsOptions {
  config: Pick<GroupsConfig, 'joinWaitMs' | 'joinAttemptMs'>
  /** The DHT's group records; none (no network): every join of an unknown room is item-not-found. */
  records: GroupRecordPort | undefined
  /** An ephemeral pairwise body (a join request is asked again by the client, never queued). */
  send(from: Uint8Array, to: Uint8Array, body: Uint8Array): Promise<unknown>
  log: Logger
  now: () => number
}

/**
 * The newcomer's side of an open room (docs/gateway.md "Open rooms"): a local
 * client joins `<group address>@conference…` of a group this bridge holds
 * nothing of. The room's rendezvous record names owners and admins; each is
 * asked in turn (groups.joinAttemptMs each) until one admits — its chain and
 * key arrive as for an invitation, and the gateway calls `admitted` — or
 * refuses, or groups.joinWaitMs passes. Every failure is the XMPP error the
 * client should see.
 */
export class OpenJoins {
  private readonly pending = new Map<string, Pending>()
  private stopped = false

  constructor(private readonly options: OpenJoinsOptions) {}

  /** The bridge stops: every join still waiting ends now (service-unavailable). */
  stop(): void {
    this.stopped = true
    for (const pending of this.pending.values()) pending.answer?.(undefined)
  }

  /** Whether `identity` is waiting to be let into `group` (its chain is then no invitation). */
  waiting(identity: Uint8Array, group: Uint8Array): boolean {
    return this.pending.has(key(identity, group))
  }

  /** Resolves once admitted; throws GatewayError (item-not-found, registration-required, forbidden, service-unavailable, remote-server-timeout). */
  join(identity: Identity, group: Uint8Array, nick: string): Promise<void> {
    const k = key(identity.publicKey, group)
    const known = this.pending.get(k)
    if (known) return known.done
    const pending: Pending = { asked: new Set(), admitted: false, done: Promise.resolve() }
    pending.done = this.run(identity, group, nick, pending).finally(() => this.pending.delete(k))
    this.pending.set(k, pending)
    return pending.done
  }

  /** The chain and key of `group` arrived for `identity`: its join goes on. */
  admitted(identity: Uint8Array, group: Uint8Array): void {
    const pending = this.pending.get(key(identity, group))
    if (!pending) return
    pending.admitted = true
    pending.answer?.({ admitted: true })
  }

  /** A join refusal from `from`; false when nobody here asked it (dropped). */
  refused(identity: Uint8Array, group: Uint8Array, from: Uint8Array, reason: JoinRefusal): boolean {
    const pending = this.pending.get(key(identity, group))
    if (!pending?.asked.has(hex(from))) return false
    pending.answer?.({ refused: reason })
    return true
  }

  private async run(identity: Identity, group: Uint8Array, nick: string, pending: Pending): Promise<void> {
    const { config, log, now } = this.options
    const deadline = now() + config.joinWaitMs
    const record = await this.lookUp(group)
    const request = encodeGroupControl({ type: 'join-request', group, nick })
    for (const admitter of record.admitters) {
      const left = deadline - now()
      if (left <= 0) break
      if (hex(admitter) === hex(identity.publicKey)) continue
      const outcome = this.outcome(pending, Math.min(config.joinAttemptMs, left))
      pending.asked.add(hex(admitter))
      try {
        await this.options.send(identity.publicKey, admitter, request)
      } catch (err) {
        log.debug({ err }, 'join request not sent: asking the next admission address')
        pending.answer?.({ refused: 'not-admitting' })
      }
      const answer = await outcome
      if (this.stopped) throw new GatewayError('service-unavailable', 'the bridge is stopping')
      if (pending.admitted) return
      if (!answer || 'admitted' in answer) continue
      if (answer.refused === 'not-admitting') continue
      const [condition, text] = REFUSAL_ERRORS[answer.refused]
      throw new GatewayError(condition, text)
    }
    throw new GatewayError(
      'remote-server-timeout',
      'no owner or admin of this room answered in time: try again later',
    )
  }

  /** The next answer, or undefined after `ms`. */
  private outcome(pending: Pending, ms: number): Promise<Outcome | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => settle(undefined), ms)
      const settle = (outcome: Outcome | undefined) => {
        clearTimeout(timer)
        pending.answer = undefined
        resolve(outcome)
      }
      pending.answer = settle
    })
  }

  private async lookUp(group: Uint8Array): Promise<GroupRendezvous> {
    const { records } = this.options
    let plaintext: Uint8Array | null = null
    try {
      plaintext = records ? await records.fetch(group) : null
    } catch (cause) {
      const why =
        cause instanceof CryptoError
          ? 'this address is not a key (no group has it)'
          : 'its record on the network is unreadable'
      throw new GatewayError('item-not-found', `no such room: ${why}`, { cause })
    }
    if (!plaintext)
      throw new GatewayError(
        'item-not-found',
        'no such room: no open room is published at this address (it may be members-only, or its owners away)',
      )
    try {
      return decodeGroupRendezvous(plaintext)
    } catch (cause) {
      throw new GatewayError('item-not-found', 'no such room: its record on the network is malformed', {
        cause,
      })
    }
  }
}

const key = (identity: Uint8Array, group: Uint8Array) => `${hex(identity)}:${hex(group)}`

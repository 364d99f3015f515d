import { randomBytes } from 'node:crypto'
import { clone, createElement, type Element } from 'ltx'
import type { XmppCore } from './core.js'
import { StreamError, XMPPError } from './errors.js'
import { JID } from './jid.js'
import { NS } from './namespaces.js'
import type { PresenceService } from './presence.js'
import { ClientSession, type SessionTransport } from './session.js'
import { SmQueue } from './sm-queue.js'
import { delayElement, stanzaKind } from './stanza.js'

/**
 * Session lifecycle: resource binding with conflicts (RFC 6120 §7.7.2.2: the
 * new session wins), XEP-0198 enable/ack/resume and hibernation, and the end
 * of a session, where every unacknowledged message goes to another resource
 * or to offline storage, so nothing is lost.
 */
export class SessionManager {
  private readonly resumable = new Map<string, ClientSession>()
  private readonly hibernating = new Map<ClientSession, NodeJS.Timeout>()

  constructor(
    private readonly core: XmppCore,
    private readonly presence: PresenceService,
  ) {}

  async bind(transport: SessionTransport, account: string, requested: string, remoteAddress: string) {
    const { core } = this
    const resource = requested === '' ? randomBytes(6).toString('hex') : requested
    const jid = JID.parse(`${account}@${core.domain}/${resource}`)
    const existing = core.sessions.byJid(jid)
    if (!existing && core.sessions.ofAccount(account).length >= core.config.limits.maxResources) {
      throw new XMPPError('resource-constraint', 'too many resources for this account')
    }
    if (existing) {
      await this.end(existing)
      existing.transport?.close('conflict', 'replaced by a new connection with the same resource')
    }
    const session: ClientSession = new ClientSession({
      id: randomBytes(12).toString('hex'),
      jid,
      remoteAddress,
      hooks: core.hooks,
      log: core.log,
      maxUnacked: core.config.limits.smMaxUnacked,
      orphaned: (stanza) =>
        this.rescue(stanza, session).catch((err) =>
          core.log.error({ err }, 'rerouting a late stanza failed'),
        ),
      overflowed: () => void this.endQuietly(session),
    })
    session.transport = transport
    core.sessions.add(session)
    core.log.info({ jid: jid.toString() }, 'session started')
    core.emit('session-started', session)
    return session
  }

  /** Everything a bound client sends: XEP-0198 nonzas here, stanzas to the core, other nonzas to modules. */
  async handle(session: ClientSession, element: Element): Promise<void> {
    if (element.getNS() === NS.sm) return this.streamManagement(session, element)
    if (stanzaKind(element)) {
      if (session.sm) session.sm.handled = (session.sm.handled + 1) >>> 0
      return this.core.fromClient(session, element)
    }
    return this.core.fromClientNonza(session, element)
  }

  async resume(transport: SessionTransport, account: string, element: Element) {
    const session = this.resumable.get(element.attrs.previd ?? '')
    const h = Number(element.attrs.h)
    if (!session || session.account !== account || session.ended || !session.sm) {
      transport.write(smFailed('item-not-found'))
      return undefined
    }
    if (!Number.isInteger(h) || h < 0 || !session.sm.queue.ack(h >>> 0)) {
      transport.write(smFailed('unexpected-request'))
      return undefined
    }
    const previous = session.transport
    session.transport = transport
    previous?.close()
    clearTimeout(this.hibernating.get(session))
    this.hibernating.delete(session)
    transport.write(
      createElement('resumed', { xmlns: NS.sm, previd: session.sm.resumeId, h: String(session.sm.handled) }),
    )
    for (const stanza of session.sm.queue.pending()) transport.write(stanza)
    if (session.sm.queue.length > 0) transport.write(createElement('r', { xmlns: NS.sm }))
    this.core.log.info({ jid: session.jid.toString() }, 'session resumed')
    return session
  }

  disconnected(session: ClientSession, transport: SessionTransport, clean: boolean): void {
    if (session.transport !== transport) return
    session.transport = null
    const timeout = this.core.config.limits.smResumeTimeoutMs
    if (!clean && session.sm?.resumeId && timeout > 0 && !session.ended) {
      const timer = setTimeout(() => void this.endQuietly(session), timeout)
      timer.unref()
      this.hibernating.set(session, timer)
      return
    }
    void this.endQuietly(session)
  }

  /** Ends every session (server shutdown); their unacknowledged messages go to offline storage. */
  async endAll(): Promise<void> {
    for (const session of [...this.core.sessions.all()]) await this.end(session)
  }

  private async endQuietly(session: ClientSession): Promise<void> {
    try {
      await this.end(session)
    } catch (err) {
      this.core.log.error({ err, jid: session.jid.toString() }, 'ending a session failed')
    }
  }

  private async end(session: ClientSession): Promise<void> {
    if (session.ended) return
    const { core } = this
    session.ended = true
    core.sessions.remove(session)
    if (session.sm?.resumeId) this.resumable.delete(session.sm.resumeId)
    clearTimeout(this.hibernating.get(session))
    this.hibernating.delete(session)
    session.failRequests()
    const unacked = session.sm?.queue.drain() ?? []
    // Started together, before any await: offline keys are taken in call order, so the order survives.
    const rescued = Promise.all(unacked.map((stanza) => this.rescue(stanza, session)))
    await this.presence.sessionEnded(session)
    core.log.info({ jid: session.jid.toString(), unacked: unacked.length }, 'session ended')
    core.emit('session-ended', session)
    await rescued
  }

  /** An unacknowledged stanza of a dead session: messages to another resource or offline; IQ requests answered. */
  private async rescue(stanza: Element, session: ClientSession): Promise<void> {
    const kind = stanzaKind(stanza)
    if (kind === 'iq' && (stanza.attrs.type === 'get' || stanza.attrs.type === 'set')) {
      this.core.bounce(stanza, new XMPPError('recipient-unavailable'), undefined)
      return
    }
    if (kind !== 'message' || !worthRescuing(stanza)) return
    const copy = clone(stanza)
    if (!copy.getChild('delay', NS.delay)) copy.cnode(delayElement(this.core.domain, this.core.now()))
    await this.core.redeliver(copy, session.account)
  }

  private async streamManagement(session: ClientSession, element: Element): Promise<void> {
    const transport = session.transport
    switch (element.name) {
      case 'enable': {
        if (session.sm) {
          transport?.write(smFailed('unexpected-request'))
          return
        }
        const asked = element.attrs.resume === 'true' || element.attrs.resume === '1'
        const resume = asked && this.core.config.limits.smResumeTimeoutMs > 0
        const resumeId = resume ? randomBytes(16).toString('base64url') : undefined
        session.sm = { resumeId, queue: new SmQueue(), handled: 0 }
        if (resumeId) this.resumable.set(resumeId, session)
        const max = String(Math.floor(this.core.config.limits.smResumeTimeoutMs / 1000))
        transport?.write(
          createElement('enabled', {
            xmlns: NS.sm,
            id: resumeId,
            resume: resume ? 'true' : undefined,
            max: resume ? max : undefined,
          }),
        )
        return
      }
      case 'r':
        if (session.sm) transport?.write(createElement('a', { xmlns: NS.sm, h: String(session.sm.handled) }))
        return
      case 'a': {
        const h = Number(element.attrs.h)
        if (session.sm && (!Number.isInteger(h) || h < 0 || !session.sm.queue.ack(h >>> 0))) {
          throw new StreamError('undefined-condition', 'acknowledged more stanzas than were sent')
        }
        return
      }
      default:
        throw new StreamError(
          'unsupported-stanza-type',
          `<${element.name}> is not a stream management element`,
        )
    }
  }
}

function smFailed(condition: string): Element {
  return createElement('failed', { xmlns: NS.sm }, createElement(condition, { xmlns: NS.stanzas }))
}

/** Payloads a server makes for one resource only: archive query results, carbon copies (XEP-0313, XEP-0280). */
const FOR_ONE_RESOURCE = new Set(['urn:xmpp:mam:2', 'urn:xmpp:carbons:2'])

/**
 * RFC 6121 §8.5.3.2.1: a chat or normal message to a resource that is gone goes to the account, other
 * types do not. Copies made for that resource alone would otherwise pop up elsewhere as new messages:
 * Profanity showed slixmpp's archive results as incoming chat after slixmpp logged out unacked.
 */
function worthRescuing(message: Element): boolean {
  const type = message.attrs.type ?? 'normal'
  if (type !== 'chat' && type !== 'normal') return false
  return !message.getChildElements().some((child) => FOR_ONE_RESOURCE.has(child.getNS() ?? ''))
}

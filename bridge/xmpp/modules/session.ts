import type { XmppModule } from '../module.js'
import { NS } from '../namespaces.js'

/** RFC 3921 §3 session establishment, a no-op kept for old clients (RFC 6121 Appendix E): always succeeds. */
export const legacySessionModule: XmppModule = {
  name: 'legacy-session',
  setup(ctx) {
    ctx.iq({ type: 'set', name: 'session', xmlns: NS.session, on: ['server', 'account'] }, () => undefined)
  },
}

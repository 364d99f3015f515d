import type { XmppStatus } from '../../../bridge/service/status.js'
import type { AccountInfo } from '../../shared/api-types.js'
import { api } from '../api.js'
import { h, notice } from '../dom.js'
import { identityStatusView } from '../identity-status.js'
import { page } from '../layout.js'
import { followStatus } from '../live.js'
import { copyButton, groupAddress, qrCanvas } from '../widgets.js'

/** Whether the identity is online, its address, and the Jabber account settings to copy into a client. */
page(
  'Your identity',
  async (main) => {
    const account = await api<AccountInfo>('GET', '/api/account')
    if (new URLSearchParams(location.search).has('new')) {
      main.append(
        notice(
          'ok',
          'Your identity is ready. Next, make a backup: without it, a lost disk or a forgotten password loses this identity for good. ',
          h('a', { href: '/backup' }, 'Make a backup now'),
        ),
      )
    }
    const reachable = identityStatusView()
    main.append(reachable.el, addressCard(account), jabberCard(account))
    followStatus(({ identity, status }) => reachable.update(identity, status.network))
  },
  { login: true },
)

function addressCard(account: AccountInfo): HTMLElement {
  return h(
    'section',
    { class: 'card split' },
    h(
      'div',
      {},
      h('h2', {}, 'Your address'),
      h('p', {}, 'Give this to people who want to write to you. It is your public key: it is safe to share.'),
      h('p', { class: 'address', id: 'address' }, groupAddress(account.address)),
      copyButton(account.address),
    ),
    qrCanvas(account.address, 'QR code of your address'),
  )
}

function jabberCard(account: AccountInfo): HTMLElement {
  if (!account.jid) {
    return h(
      'section',
      { class: 'card' },
      h('h2', {}, 'Jabber account'),
      notice(
        'info',
        'The XMPP server is not running in this bridge, so there is no account to connect to yet.',
      ),
    )
  }
  const uri = `xmpp:${account.jid}`
  return h(
    'section',
    { class: 'card split' },
    h(
      'div',
      {},
      h('h2', {}, 'Jabber account'),
      h('p', {}, 'Add this account to Gajim, Pidgin, Conversations, Profanity… with these settings.'),
      settingsTable(account.jid, account.xmpp),
      h('p', {}, 'On a phone, scan the code with Conversations: ', h('code', {}, uri)),
    ),
    qrCanvas(uri, 'QR code of the xmpp: URI for Conversations'),
  )
}

function settingsTable(jid: string, xmpp: XmppStatus | null): HTMLElement {
  const rows: [string, string | HTMLElement][] = [
    ['Jabber ID', jid],
    ['Password', 'the password you chose for this identity'],
  ]
  if (xmpp) {
    rows.push(
      ['Server (host)', xmpp.host],
      ['Port', `${xmpp.port} (STARTTLS)${xmpp.directTlsPort ? `, ${xmpp.directTlsPort} (direct TLS)` : ''}`],
      [
        'Certificate',
        h(
          'div',
          {},
          h('p', {}, 'If your client asks, accept it only when its fingerprint is one of these:'),
          h('p', {}, 'SHA-256: ', h('code', { class: 'fingerprint' }, xmpp.certificateSha256)),
          h(
            'p',
            {},
            'SHA-1 (shown first by Profanity and Pidgin): ',
            h('code', { class: 'fingerprint-sha1' }, xmpp.certificateSha1),
          ),
        ),
      ],
    )
  } else {
    rows.push(['Server', 'the XMPP server is not running in this bridge'])
  }
  return h(
    'table',
    { class: 'settings' },
    h('tbody', {}, ...rows.map(([k, v]) => h('tr', {}, h('th', { scope: 'row' }, k), h('td', {}, v)))),
  )
}

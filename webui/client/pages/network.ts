import type { BridgeStatus, NetworkStatus } from '../../../bridge/service/status.js'
import { h, notice, replace } from '../dom.js'
import { page } from '../layout.js'
import { followStatus } from '../live.js'

/** Live view of the bridge: XMPP server and P2P network counts. */
page(
  'Network',
  (main) => {
    const view = h('div', { id: 'network' }, notice('info', 'Connecting to the bridge…'))
    const live = h('p', { class: 'live' })
    main.append(live, view)
    followStatus(
      ({ status }) => {
        live.textContent = `Live · updated ${new Date().toLocaleTimeString()}`
        replace(view, xmppCard(status), networkCard(status.network))
      },
      () => {
        live.textContent = 'Connection to the bridge lost; retrying…'
      },
    )
  },
  { login: true },
)

function xmppCard(status: BridgeStatus): HTMLElement {
  const xmpp = status.xmpp
  return h(
    'section',
    { class: 'card' },
    h('h2', {}, 'Jabber server'),
    xmpp
      ? counts([
          ['Listening on', `${xmpp.host}:${xmpp.port}`],
          ['Domain', xmpp.domain],
          ['Bridge running since', new Date(status.startedAt).toLocaleString()],
        ])
      : h('p', {}, 'The XMPP server is not running in this bridge.'),
  )
}

function networkCard(network: NetworkStatus | null): HTMLElement {
  return h(
    'section',
    { class: 'card' },
    h('h2', {}, 'Peer-to-peer network'),
    network
      ? counts([
          ['Peers known', network.peers],
          ['Inbound tunnels', network.tunnels.inbound],
          ['Outbound tunnels', network.tunnels.outbound],
          ['Intro points', network.introPoints],
          ['Messages waiting to be sent', network.outbox],
          ['Envelopes held for others', network.mailboxHeld],
        ])
      : h(
          'p',
          { id: 'network-off' },
          'Network not started: this bridge does not run the peer-to-peer node yet, so there are no peers, tunnels or mailboxes to show.',
        ),
  )
}

function counts(rows: [string, string | number][]): HTMLElement {
  return h('dl', { class: 'counts' }, ...rows.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, String(v))]))
}

import type { BridgeStatus, NetworkStatus } from '../../../bridge/service/status.js'
import { h, notice, replace } from '../dom.js'
import { identityStatusView } from '../identity-status.js'
import { page } from '../layout.js'
import { followStatus } from '../live.js'

/** Live view of the bridge: whether the identity is online, the XMPP server, and P2P network counts. */
page(
  'Network',
  (main) => {
    const view = h('div', { id: 'network' }, notice('info', 'Connecting to the bridge…'))
    const live = h('p', { class: 'live' })
    const reachable = identityStatusView()
    main.append(live, reachable.el, view)
    followStatus(
      ({ status, identity }) => {
        live.textContent = `Live · updated ${new Date().toLocaleTimeString()}`
        reachable.update(identity, status.network)
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
    { class: 'card', id: 'network-node' },
    h('h2', {}, 'Peer-to-peer network'),
    ...(network
      ? [
          counts([
            ['Peers known', network.peers],
            ['Relays known', network.relays],
            ['Inbound tunnels', network.tunnels.inbound],
            ['Outbound tunnels (built when sending)', network.tunnels.outbound],
            ['Intro points', network.introPoints],
            ['Messages waiting to be sent', network.outbox],
            ['Envelopes held for others', network.mailboxHeld ?? 'none: this node holds no mailboxes'],
          ]),
          reachability(network),
        ]
      : [
          h(
            'p',
            { id: 'network-off' },
            'Network not running: this bridge has no peer-to-peer node running, so there are no peers, tunnels or mailboxes to show, and only identities on this bridge can reach you.',
          ),
        ]),
  )
}

/**
 * Zero peers right after start are normal: say so. (Inbound tunnels are the
 * identity's: its card says while they are built; outbound ones are built
 * when a message goes out.)
 */
function reachability(network: NetworkStatus): HTMLElement | null {
  return network.peers === 0 ? notice('info', 'Looking for peers…') : null
}

function counts(rows: [string, string | number][]): HTMLElement {
  return h('dl', { class: 'counts' }, ...rows.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, String(v))]))
}

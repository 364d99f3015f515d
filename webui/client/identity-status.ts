import type { NetworkStatus } from '../../bridge/service/status.js'
import type { IdentityState } from '../shared/api-types.js'
import { h, notice, replace } from './dom.js'

/**
 * Whether the logged-in identity can be reached, in words, with a progress
 * bar while its key opens and its tunnels are built (account and network
 * pages). `update` takes each status from the stream and redraws only on a
 * change, so the progress bar keeps running smoothly.
 */
export function identityStatusView(): {
  el: HTMLElement
  update(identity: IdentityState, network: NetworkStatus | null): void
} {
  const body = h('div', {}, notice('info', 'Connecting to the bridge…'))
  let shown = ''
  return {
    el: h('section', { class: 'card', id: 'identity-status' }, h('h2', {}, 'You on the network'), body),
    update(identity, network) {
      const parts = describe(identity, network)
      const text = parts.map((p) => p.textContent).join('\n')
      if (text === shown) return
      shown = text
      replace(body, ...parts)
    },
  }
}

function describe(identity: IdentityState, network: NetworkStatus | null): HTMLElement[] {
  if (identity.online)
    return [notice('ok', 'Online: your address is published, so your contacts can reach you.')]
  switch (identity.key) {
    case 'unlocking':
      return [busy('Unlocking your key…')]
    case 'failed':
      return [
        notice(
          'error',
          'Your key could not be unlocked on this bridge (its log says why), so you can neither send nor receive. Log out and log in again.',
        ),
      ]
    case 'locked':
      return [notice('info', 'Your key is locked on this bridge. Log out and log in again to come online.')]
  }
  if (!network)
    return [
      notice(
        'info',
        'Unlocked. The peer-to-peer network is off on this bridge: only identities on this bridge can reach you.',
      ),
    ]
  return [
    busy('Building tunnels…'),
    h(
      'p',
      { class: 'empty' },
      network.peers === 0
        ? 'Looking for peers first.'
        : `${network.relays} relays known, ${network.tunnels.inbound} inbound tunnels up. Contacts can reach you once your address is published.`,
    ),
  ]
}

/** An indeterminate progress bar: the bridge cannot tell how long the key or the tunnels take. */
function busy(text: string): HTMLElement {
  return h('div', { class: 'progress', role: 'status' }, h('span', {}, text), h('progress', {}))
}

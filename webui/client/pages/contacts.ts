import type { ContactView } from '../../../bridge/service/status.js'
import { h, notice, replace } from '../dom.js'
import { page } from '../layout.js'
import { followStatus } from '../live.js'
import { groupAddress } from '../widgets.js'

const STATE_LABEL: Record<ContactView['state'], string> = {
  mutual: 'Contact',
  'request-in': 'Wants to add you',
  'request-out': 'Waiting for their answer',
}

/** Contacts and requests, live. Requests are answered in the Jabber client (presence subscription). */
page(
  'Contacts and requests',
  (main) => {
    const view = h('div', { id: 'contacts' }, notice('info', 'Connecting to the bridge…'))
    main.append(view)
    followStatus(
      ({ contacts }) => replace(view, contacts ? contactsTable(contacts) : notYet()),
      () => replace(view, notice('error', 'Connection to the bridge lost; retrying…')),
    )
  },
  { login: true },
)

function notYet(): HTMLElement {
  return h(
    'p',
    { id: 'contacts-off' },
    'Contacts and requests travel over the peer-to-peer network, which this bridge does not run yet. ',
    'Once it does, they appear here as they arrive.',
  )
}

function contactsTable(contacts: ContactView[]): HTMLElement {
  if (contacts.length === 0) return h('p', { class: 'empty' }, 'No contacts or requests yet.')
  return h(
    'table',
    { class: 'list' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', {}, 'Name'),
        h('th', {}, 'Address'),
        h('th', {}, 'State'),
        h('th', {}, 'Request text'),
      ),
    ),
    h(
      'tbody',
      {},
      ...contacts.map((c) =>
        h(
          'tr',
          {},
          h('td', {}, c.name ?? '—'),
          h('td', { class: 'address' }, groupAddress(c.address)),
          h('td', {}, STATE_LABEL[c.state]),
          h('td', { class: 'request-text' }, c.requestText ?? ''),
        ),
      ),
    ),
  )
}

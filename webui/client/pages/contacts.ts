import { parseAddress } from '../../../bridge/crypto/address.js'
import type { HeldMessage } from '../../../bridge/service/contacts.js'
import type { ContactView } from '../../../bridge/service/status.js'
import type { ContactsInfo } from '../../shared/api-types.js'
import { api } from '../api.js'
import { type Child, field, h, replace } from '../dom.js'
import { act, page, type Refresh } from '../layout.js'
import { followStatus } from '../live.js'
import { groupAddress } from '../widgets.js'

/**
 * Contacts and requests, live. Answering here is the same as answering in a
 * Jabber client: the bridge's XMPP server takes the same step, and the
 * client's roster follows. Messages from people who are not contacts (held
 * by the gateway) are shown here only: with their request, or on their own.
 */
page(
  'Contacts and requests',
  async (main) => {
    const info = await api<ContactsInfo>('GET', '/api/contacts')
    const status = h('div', { id: 'contacts-status' })
    const live = h('p', { class: 'live' })
    const lists = h('div', { id: 'contacts' })
    const form = requestForm(info.maxRequestTextChars, status, () => refresh())
    let shown = ''
    const draw = (view: PageData) => {
      // Redrawing unchanged lists every update would swallow a click in progress.
      const json = JSON.stringify(view)
      if (json === shown) return
      shown = json
      replace(lists, ...sections(view, status, refresh, form.fill))
    }
    const refresh = async () => {
      const { contacts, held } = await api<ContactsInfo>('GET', '/api/contacts')
      draw({ contacts, held })
    }
    main.append(
      h(
        'p',
        {},
        'Contacts see when you are online and can write to you. Answering a request here is the same as answering it in your Jabber app.',
      ),
      status,
      live,
      lists,
      form.el,
    )
    draw({ contacts: info.contacts, held: info.held })
    followStatus(
      ({ contacts, held }) => {
        live.textContent = `Live · updated ${new Date().toLocaleTimeString()}`
        draw({ contacts, held })
      },
      () => {
        live.textContent = 'Connection to the bridge lost; retrying…'
      },
    )
  },
  { login: true },
)

/** What the lists show: contacts and requests, and the messages held from people who are not contacts. */
interface PageData {
  contacts: ContactView[]
  held: HeldMessage[]
}

function sections(
  { contacts, held }: PageData,
  status: HTMLElement,
  refresh: Refresh,
  askToAdd: (address: string) => void,
): HTMLElement[] {
  const inState = (state: ContactView['state']) => contacts.filter((c) => c.state === state)
  const incoming = inState('request-in')
  const outgoing = inState('request-out')
  const heldFrom = (address: string) => held.filter((m) => m.address === address)
  const asking = new Set(incoming.map((c) => c.address))
  const strangers = [...new Set(held.map((m) => m.address))].filter((a) => !asking.has(a))
  return [
    h(
      'section',
      { id: 'requests-in' },
      h('h2', {}, 'Requests for you'),
      ...(incoming.length === 0
        ? [h('p', { class: 'empty' }, 'No requests waiting.')]
        : incoming.map((c) => requestCard(c, heldFrom(c.address), status, refresh))),
    ),
    strangers.length > 0 &&
      h(
        'section',
        { id: 'held' },
        h('h2', {}, 'Messages from people who are not your contacts'),
        h(
          'p',
          {},
          'They wrote to you without a contact request. Your Jabber app shows their messages once you add them as a contact; until then they wait here.',
        ),
        ...strangers.map((address) => strangerCard(address, heldFrom(address), askToAdd)),
      ),
    h(
      'section',
      { id: 'contacts-mutual', class: 'card' },
      h('h2', {}, 'Your contacts'),
      contactTable(inState('mutual'), 'No contacts yet.'),
    ),
    outgoing.length > 0 &&
      h(
        'section',
        { id: 'requests-out', class: 'card' },
        h('h2', {}, 'Waiting for their answer'),
        contactTable(outgoing, ''),
      ),
  ].filter((s): s is HTMLElement => s !== false)
}

/** A name when the user bound one; otherwise the address is all there is. */
function label(contact: ContactView): string {
  return contact.name ?? groupAddress(contact.address)
}

function nameAndAddress(contact: ContactView): Child[] {
  return [
    contact.name ? h('strong', { class: 'name' }, contact.name) : null,
    h('span', { class: 'address' }, groupAddress(contact.address)),
  ]
}

function requestCard(
  contact: ContactView,
  held: HeldMessage[],
  status: HTMLElement,
  refresh: Refresh,
): HTMLElement {
  const answer = (verb: 'approve' | 'deny', done: string) => () => {
    if (verb === 'deny' && !confirm(`Deny the request from ${label(contact)}?`)) return
    for (const b of buttons) b.disabled = true
    act(status, refresh, async () => {
      await api('POST', `/api/contacts/${verb}`, { address: contact.address })
      return `${done} ${label(contact)}.`
    }).finally(() => {
      for (const b of buttons) b.disabled = false
    })
  }
  const buttons = [
    h('button', { type: 'button', onclick: answer('approve', 'Approved') }, 'Approve'),
    h('button', { type: 'button', class: 'danger secondary', onclick: answer('deny', 'Denied') }, 'Deny'),
  ]
  return h(
    'article',
    { class: 'card request' },
    h('p', { class: 'who-asks' }, ...nameAndAddress(contact)),
    contact.name
      ? null
      : h('small', {}, 'Not a name you gave. ', h('a', { href: '/bindings' }, 'Name this address')),
    contact.requestText
      ? h('blockquote', { class: 'request-text' }, contact.requestText)
      : h('p', { class: 'empty' }, 'No text came with this request.'),
    held.length > 0 && heldMessages(held, 'They also wrote (shown in your Jabber app once you approve):'),
    h('div', { class: 'actions' }, ...buttons),
  )
}

function strangerCard(
  address: string,
  held: HeldMessage[],
  askToAdd: (address: string) => void,
): HTMLElement {
  return h(
    'article',
    { class: 'card request stranger' },
    h('p', { class: 'who-asks' }, h('span', { class: 'address' }, groupAddress(address))),
    heldMessages(held, held.length === 1 ? 'One message:' : `${held.length} messages:`),
    h(
      'div',
      { class: 'actions' },
      h(
        'button',
        { type: 'button', class: 'secondary', onclick: () => askToAdd(address) },
        'Add as contact…',
      ),
    ),
  )
}

/** Held messages, oldest first, each with the sender's time; bodies are text nodes like every request text. */
function heldMessages(held: HeldMessage[], title: string): HTMLElement {
  return h(
    'div',
    { class: 'held' },
    h('p', { class: 'held-title' }, title),
    h(
      'ol',
      { class: 'held-messages' },
      ...held.map((m) =>
        h(
          'li',
          {},
          h(
            'time',
            { datetime: new Date(m.timestamp).toISOString() },
            new Date(m.timestamp).toLocaleString(),
          ),
          h('blockquote', { class: 'held-body' }, m.body),
        ),
      ),
    ),
  )
}

function contactTable(contacts: ContactView[], empty: string): HTMLElement {
  if (contacts.length === 0) return h('p', { class: 'empty' }, empty)
  return h(
    'table',
    { class: 'list' },
    h('thead', {}, h('tr', {}, h('th', {}, 'Name'), h('th', {}, 'Address'))),
    h(
      'tbody',
      {},
      ...contacts.map((c) =>
        h(
          'tr',
          {},
          h('td', { class: 'name' }, c.name ?? '—'),
          h('td', { class: 'address' }, groupAddress(c.address)),
        ),
      ),
    ),
  )
}

/** The request form; `fill` starts a request to an address (from a stranger's card). */
function requestForm(
  maxText: number,
  status: HTMLElement,
  refresh: Refresh,
): { el: HTMLElement; fill(address: string): void } {
  const address = h('input', { name: 'address', required: true, spellcheck: 'false', class: 'mono' })
  const text = h('textarea', { name: 'requestText', rows: '3', maxlength: String(maxText) })
  const submit = h('button', { type: 'submit' }, 'Send request')
  const form = h(
    'form',
    { class: 'card', id: 'add-contact' },
    h('h2', {}, 'Add a contact'),
    field('Their address', address, 'The 56 characters they gave you; spaces do not matter.'),
    field(
      'A few words for them',
      text,
      `Up to ${maxText} characters. They read it before they know who you are, so say who you are.`,
    ),
    submit,
  )
  form.addEventListener('submit', (event) => {
    event.preventDefault()
    submit.disabled = true
    act(status, refresh, async () => {
      parseAddress(address.value.replace(/\s/g, '')) // says exactly what is wrong (length, character, checksum) before sending
      await api('POST', '/api/contacts/request', { address: address.value, text: text.value })
      form.reset()
      return 'Request sent. They appear under “Your contacts” once they approve.'
    }).finally(() => {
      submit.disabled = false
    })
  })
  return {
    el: form,
    fill(value) {
      address.value = groupAddress(value)
      form.scrollIntoView({ behavior: 'smooth' })
      text.focus()
    },
  }
}

import { parseAddress } from '../../../bridge/crypto/address.js'
import type { Binding, BindingsImportResult } from '../../../bridge/service/bindings.js'
import { api } from '../api.js'
import { field, h, replace } from '../dom.js'
import { act, page, type Refresh } from '../layout.js'
import { groupAddress } from '../widgets.js'

/** Petnames: your own names for addresses; Jabber clients show them as roster names. */
page(
  'Names for addresses',
  async (main) => {
    const list = h('div', { id: 'bindings' })
    const status = h('div', { id: 'bindings-status' })
    const refresh = async () =>
      replace(list, bindingsTable(await api<Binding[]>('GET', '/api/bindings'), refresh, status))
    main.append(
      h(
        'p',
        {},
        'Give addresses names you recognise. A name is only yours: it labels the address, it does not replace it.',
      ),
      addForm(refresh, status),
      status,
      list,
      fileTools(refresh, status),
    )
    await refresh()
  },
  { login: true },
)

function addForm(refresh: Refresh, status: HTMLElement): HTMLElement {
  const name = h('input', { name: 'name', required: true, maxlength: '64' })
  const address = h('input', { name: 'address', required: true, spellcheck: 'false', class: 'mono' })
  const form = h(
    'form',
    { class: 'card inline' },
    field('Name', name),
    field('Address', address),
    h('button', { type: 'submit' }, 'Add'),
  )
  form.addEventListener('submit', (event) => {
    event.preventDefault()
    act(status, refresh, async () => {
      parseAddress(address.value) // says exactly what is wrong (length, character, checksum) before sending
      const added = await api<Binding>('POST', '/api/bindings', { name: name.value, address: address.value })
      form.reset()
      return `Added "${added.name}".`
    })
  })
  return form
}

function bindingsTable(bindings: Binding[], refresh: Refresh, status: HTMLElement): HTMLElement {
  if (bindings.length === 0) return h('p', { class: 'empty' }, 'No names yet.')
  return h(
    'table',
    { class: 'list' },
    h('thead', {}, h('tr', {}, h('th', {}, 'Name'), h('th', {}, 'Address'), h('th', {}, ''))),
    h('tbody', {}, ...bindings.map((b) => bindingRow(b, refresh, status))),
  )
}

function bindingRow(binding: Binding, refresh: Refresh, status: HTMLElement): HTMLElement {
  const path = `/api/bindings/${encodeURIComponent(binding.name)}`
  const rename = () => {
    const next = prompt(`New name for "${binding.name}"`, binding.name)
    if (next === null || next === binding.name) return
    act(status, refresh, async () => {
      await api('PATCH', path, { name: next })
      return `Renamed to "${next.trim()}".`
    })
  }
  const remove = () => {
    if (!confirm(`Remove the name "${binding.name}"?`)) return
    act(status, refresh, async () => {
      await api('DELETE', path)
      return `Removed "${binding.name}".`
    })
  }
  return h(
    'tr',
    {},
    h('td', { class: 'name' }, binding.name),
    h('td', { class: 'address' }, groupAddress(binding.address)),
    h(
      'td',
      { class: 'row-actions' },
      h('button', { type: 'button', class: 'small', onclick: rename }, 'Rename'),
      h('button', { type: 'button', class: 'small danger', onclick: remove }, 'Remove'),
    ),
  )
}

function fileTools(refresh: Refresh, status: HTMLElement): HTMLElement {
  const file = h('input', { type: 'file', name: 'importFile', accept: '.json,application/json' })
  file.addEventListener('change', () => {
    const chosen = file.files?.[0]
    if (!chosen) return
    act(status, refresh, async () => {
      const result = await api<BindingsImportResult>('POST', '/api/bindings/import', {
        file: await chosen.text(),
      })
      file.value = ''
      const conflicts = result.conflicts.map((c) => ` "${c.name}": ${c.reason}.`).join('')
      return `Imported ${result.added} new, ${result.unchanged} already there, ${result.conflicts.length} left out.${conflicts}`
    })
  })
  return h(
    'section',
    { class: 'card' },
    h('h2', {}, 'Import and export'),
    h(
      'p',
      {},
      h(
        'a',
        { class: 'button secondary', href: '/api/bindings/export', download: '' },
        'Export names as a file',
      ),
    ),
    field('Import names from a file', file),
  )
}

import { createElement, type Element } from 'ltx'
import type { XmppConfig } from '../../../config/sections/xmpp.js'
import { XMPPError } from '../../errors.js'
import { formFields, NS_DATA } from '../data-form.js'
import type { RoomConfig } from './room.js'
import { NS_ROOMCONFIG } from './xml.js'

/** Longest room name and description accepted from a form. */
const MAX_NAME = 200
const MAX_DESCRIPTION = 2000

/** Our own field (XEP-0068 §4: unregistered fields start with "x-"): the group's security mode. */
export const MODE_FIELD = 'x-paranoim-mode'

type Limits = XmppConfig['muc']

export function defaultRoomConfig(limits: Limits): RoomConfig {
  return {
    name: '',
    description: '',
    persistent: false,
    public: true,
    membersOnly: false,
    whois: 'moderators',
    changeSubject: true,
    allowInvites: true,
    maxUsers: limits.maxOccupants,
    maxHistory: limits.historyMessages,
    mode: 'normal',
  }
}

interface FieldSpec {
  type: 'text-single' | 'boolean' | 'list-single'
  label: string
  options?: readonly string[]
  get(config: RoomConfig): string
  set(config: RoomConfig, value: string, limits: Limits): void
}

function bool(value: string, field: string): boolean {
  if (value === '1' || value === 'true') return true
  if (value === '0' || value === 'false') return false
  throw new XMPPError('not-acceptable', `${field} is a boolean (0/1/true/false)`)
}

function text(max: number) {
  return (value: string, field: string) => {
    if (value.length > max) throw new XMPPError('not-acceptable', `${field} is longer than ${max} characters`)
    return value
  }
}

function count(value: string, field: string, max: number, min: number): number {
  const n = /^\d{1,7}$/.test(value) ? Number(value) : Number.NaN
  if (!(n >= min && n <= max)) throw new XMPPError('not-acceptable', `${field} must be ${min}..${max}`)
  return n
}

function oneOf<T extends string>(options: readonly T[]) {
  return (value: string, field: string): T => {
    if (!(options as readonly string[]).includes(value))
      throw new XMPPError('not-acceptable', `${field} is one of ${options.join(', ')}`)
    return value as T
  }
}

const b = (x: boolean) => (x ? '1' : '0')

/** The muc#roomconfig fields (XEP-0045 §15.5.3) this service offers, and ours. */
const FIELDS: Record<string, FieldSpec> = {
  'muc#roomconfig_roomname': {
    type: 'text-single',
    label: 'Room name',
    get: (c) => c.name,
    set: (c, v) => {
      c.name = text(MAX_NAME)(v, 'muc#roomconfig_roomname')
    },
  },
  'muc#roomconfig_roomdesc': {
    type: 'text-single',
    label: 'Description',
    get: (c) => c.description,
    set: (c, v) => {
      c.description = text(MAX_DESCRIPTION)(v, 'muc#roomconfig_roomdesc')
    },
  },
  'muc#roomconfig_persistentroom': {
    type: 'boolean',
    label: 'Keep the room when the last occupant leaves',
    get: (c) => b(c.persistent),
    set: (c, v) => {
      c.persistent = bool(v, 'muc#roomconfig_persistentroom')
    },
  },
  'muc#roomconfig_publicroom': {
    type: 'boolean',
    label: 'List the room in the directory',
    get: (c) => b(c.public),
    set: (c, v) => {
      c.public = bool(v, 'muc#roomconfig_publicroom')
    },
  },
  'muc#roomconfig_membersonly': {
    type: 'boolean',
    label: 'Members only',
    get: (c) => b(c.membersOnly),
    set: (c, v) => {
      c.membersOnly = bool(v, 'muc#roomconfig_membersonly')
    },
  },
  'muc#roomconfig_whois': {
    type: 'list-single',
    label: 'Who may see real JIDs',
    options: ['moderators', 'anyone'],
    get: (c) => c.whois,
    set: (c, v) => {
      c.whois = oneOf(['moderators', 'anyone'] as const)(v, 'muc#roomconfig_whois')
    },
  },
  'muc#roomconfig_changesubject': {
    type: 'boolean',
    label: 'Participants may change the subject',
    get: (c) => b(c.changeSubject),
    set: (c, v) => {
      c.changeSubject = bool(v, 'muc#roomconfig_changesubject')
    },
  },
  'muc#roomconfig_allowinvites': {
    type: 'boolean',
    label: 'Occupants may invite others',
    get: (c) => b(c.allowInvites),
    set: (c, v) => {
      c.allowInvites = bool(v, 'muc#roomconfig_allowinvites')
    },
  },
  'muc#roomconfig_maxusers': {
    type: 'text-single',
    label: 'Maximum occupants',
    get: (c) => String(c.maxUsers),
    set: (c, v, limits) => {
      c.maxUsers = count(v, 'muc#roomconfig_maxusers', limits.maxOccupants, 1)
    },
  },
  'muc#maxhistoryfetch': {
    type: 'text-single',
    label: 'Most history messages sent on join',
    get: (c) => String(c.maxHistory),
    set: (c, v, limits) => {
      c.maxHistory = count(v, 'muc#maxhistoryfetch', limits.historyMessages, 0)
    },
  },
  [MODE_FIELD]: {
    type: 'list-single',
    label: 'Security on the network: normal (a shared group key) or high (sealed for each member)',
    options: ['normal', 'high'],
    get: (c) => c.mode,
    set: (c, v) => {
      c.mode = oneOf(['normal', 'high'] as const)(v, MODE_FIELD)
    },
  },
}

/** The configuration form an owner gets (§10.2), filled with the room's current values. */
export function configForm(config: RoomConfig): Element {
  return createElement(
    'x',
    { xmlns: NS_DATA, type: 'form' },
    createElement('title', {}, 'Room configuration'),
    createElement('field', { var: 'FORM_TYPE', type: 'hidden' }, createElement('value', {}, NS_ROOMCONFIG)),
    ...Object.entries(FIELDS).map(([name, spec]) =>
      createElement(
        'field',
        { var: name, type: spec.type, label: spec.label },
        createElement('value', {}, spec.get(config)),
        ...(spec.options ?? []).map((o) => createElement('option', {}, createElement('value', {}, o))),
      ),
    ),
  )
}

/**
 * Applies a submitted form to a copy of `config` (§10.2): fields left out keep
 * their value; a wrong FORM_TYPE or an unknown field is `bad-request`, a value
 * the field does not accept `not-acceptable`.
 */
export function applyConfigForm(config: RoomConfig, form: Element, limits: Limits): RoomConfig {
  const fields = formFields(form)
  const type = fields.get('FORM_TYPE')?.[0]
  if (type !== undefined && type !== NS_ROOMCONFIG)
    throw new XMPPError('bad-request', `FORM_TYPE must be ${NS_ROOMCONFIG}`)
  const next = { ...config }
  for (const [name, values] of fields) {
    if (name === 'FORM_TYPE') continue
    const spec = Object.hasOwn(FIELDS, name) ? FIELDS[name] : undefined
    if (!spec) throw new XMPPError('bad-request', `unknown field ${name.slice(0, 100)}`)
    if (values.length > 1) throw new XMPPError('not-acceptable', `${name} takes one value`)
    spec.set(next, values[0] ?? '', limits)
  }
  return next
}

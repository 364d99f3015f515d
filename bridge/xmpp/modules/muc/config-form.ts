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
  /** Sets the field's value on `config`; `name` is the field's var, for errors. */
  set(config: RoomConfig, value: string, limits: Limits, name: string): void
}

type BooleanKey = { [K in keyof RoomConfig]: RoomConfig[K] extends boolean ? K : never }[keyof RoomConfig]

function booleanField(label: string, key: BooleanKey): FieldSpec {
  return {
    type: 'boolean',
    label,
    get: (c) => (c[key] ? '1' : '0'),
    set: (c, v, _limits, name) => {
      if (v === '1' || v === 'true') c[key] = true
      else if (v === '0' || v === 'false') c[key] = false
      else throw new XMPPError('not-acceptable', `${name} is a boolean (0/1/true/false)`)
    },
  }
}

function textField(label: string, key: 'name' | 'description', max: number): FieldSpec {
  return {
    type: 'text-single',
    label,
    get: (c) => c[key],
    set: (c, v, _limits, name) => {
      if (v.length > max) throw new XMPPError('not-acceptable', `${name} is longer than ${max} characters`)
      c[key] = v
    },
  }
}

function countField(
  label: string,
  key: 'maxUsers' | 'maxHistory',
  max: (limits: Limits) => number,
  min: number,
): FieldSpec {
  return {
    type: 'text-single',
    label,
    get: (c) => String(c[key]),
    set: (c, v, limits, name) => {
      const n = /^\d{1,7}$/.test(v) ? Number(v) : Number.NaN
      if (!(n >= min && n <= max(limits)))
        throw new XMPPError('not-acceptable', `${name} must be ${min}..${max(limits)}`)
      c[key] = n
    },
  }
}

function listField<K extends 'whois' | 'mode'>(
  label: string,
  key: K,
  options: readonly RoomConfig[K][],
): FieldSpec {
  return {
    type: 'list-single',
    label,
    options,
    get: (c) => c[key],
    set: (c, v, _limits, name) => {
      if (!(options as readonly string[]).includes(v))
        throw new XMPPError('not-acceptable', `${name} is one of ${options.join(', ')}`)
      c[key] = v as RoomConfig[K]
    },
  }
}

/** The muc#roomconfig fields (XEP-0045 §15.5.3) this service offers, and ours. */
const FIELDS: Record<string, FieldSpec> = {
  'muc#roomconfig_roomname': textField('Room name', 'name', MAX_NAME),
  'muc#roomconfig_roomdesc': textField('Description', 'description', MAX_DESCRIPTION),
  'muc#roomconfig_persistentroom': booleanField('Keep the room when the last occupant leaves', 'persistent'),
  'muc#roomconfig_publicroom': booleanField('List the room in the directory', 'public'),
  'muc#roomconfig_membersonly': booleanField('Members only', 'membersOnly'),
  'muc#roomconfig_whois': listField('Who may see real JIDs', 'whois', ['moderators', 'anyone']),
  'muc#roomconfig_changesubject': booleanField('Participants may change the subject', 'changeSubject'),
  'muc#roomconfig_allowinvites': booleanField('Occupants may invite others', 'allowInvites'),
  'muc#roomconfig_maxusers': countField('Maximum occupants', 'maxUsers', (l) => l.maxOccupants, 1),
  'muc#maxhistoryfetch': countField(
    'Most history messages sent on join',
    'maxHistory',
    (l) => l.historyMessages,
    0,
  ),
  [MODE_FIELD]: listField(
    'Security on the network: normal (a shared group key) or high (sealed for each member)',
    'mode',
    ['normal', 'high'],
  ),
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
    spec.set(next, values[0] ?? '', limits, name)
  }
  return next
}

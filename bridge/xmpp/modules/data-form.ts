import { createElement, type Element } from 'ltx'
import { XMPPError } from '../errors.js'

export const NS_DATA = 'jabber:x:data'

/** The fields of an XEP-0004 data form (`<x xmlns='jabber:x:data'/>`): var → values, in document order. */
export function formFields(form: Element): Map<string, string[]> {
  const fields = new Map<string, string[]>()
  for (const field of form.getChildren('field')) {
    const name = field.attrs.var
    if (name === undefined) continue
    if (fields.has(name)) throw new XMPPError('bad-request', `the form has the field ${name} twice`)
    fields.set(
      name,
      field.getChildren('value').map((value) => value.getText()),
    )
  }
  return fields
}

/** The form's FORM_TYPE (XEP-0068), if it has one. */
export function formType(form: Element): string | undefined {
  return formFields(form).get('FORM_TYPE')?.[0]
}

/** A data form of `type` with a hidden FORM_TYPE and the given fields (each optionally typed). */
export function dataForm(
  type: 'form' | 'result' | 'submit',
  formTypeValue: string,
  fields: readonly { var: string; type?: string; values?: readonly string[] }[],
): Element {
  return createElement(
    'x',
    { xmlns: NS_DATA, type },
    createElement('field', { var: 'FORM_TYPE', type: 'hidden' }, createElement('value', {}, formTypeValue)),
    ...fields.map((f) =>
      createElement(
        'field',
        { var: f.var, type: f.type },
        ...(f.values ?? []).map((v) => createElement('value', {}, v)),
      ),
    ),
  )
}

import { MIN_PASSWORD_LENGTH, nicknameProblem } from '../../../bridge/service/identity-rules.js'
import type { SessionInfo } from '../../shared/api-types.js'
import { field, h, notice } from '../dom.js'
import { errorNotice } from '../layout.js'

/** Says why this visitor cannot create an identity now (see docs/webui.md), or returns true. */
export function mayCreate(main: HTMLElement, session: SessionInfo): boolean {
  if (session.createRequires !== 'login') return true
  main.append(
    notice('info', 'This bridge already has an identity. Log in with it first to add another one.'),
    h('a', { class: 'button', href: '/' }, 'Log in'),
  )
  return false
}

/** Password (twice) and, when the bridge asks for it, the admin password. */
export function credentialFields(session: SessionInfo) {
  const password = h('input', {
    type: 'password',
    name: 'password',
    autocomplete: 'new-password',
    required: true,
  })
  const repeat = h('input', {
    type: 'password',
    name: 'password2',
    autocomplete: 'new-password',
    required: true,
  })
  const needsAdmin = session.createRequires.includes('admin-password')
  const admin = h('input', { type: 'password', name: 'adminPassword', autocomplete: 'off' })
  const fields = [
    field(
      'Password',
      password,
      `At least ${MIN_PASSWORD_LENGTH} characters. It locks your key and is your Jabber password.`,
    ),
    field('Password again', repeat),
    needsAdmin
      ? field(
          'Admin password',
          admin,
          session.createRequires === 'admin-password'
            ? 'Set in the bridge configuration (webui.adminPassword).'
            : 'Or log in with an existing identity instead.',
        )
      : null,
  ]
  return {
    fields,
    problem(): string | null {
      if (password.value.length < MIN_PASSWORD_LENGTH) {
        return `the password needs at least ${MIN_PASSWORD_LENGTH} characters`
      }
      if (password.value !== repeat.value) return 'the two passwords differ'
      return null
    },
    password: () => password.value,
    adminPassword: () => (needsAdmin && admin.value ? admin.value : undefined),
  }
}

export interface IdentityForm {
  form: HTMLFormElement
  nickname: HTMLInputElement
  creds: ReturnType<typeof credentialFields>
  submit: HTMLButtonElement
  status: HTMLElement
}

/**
 * On submit: names a bad nickname or password first, then runs `action` with
 * the button disabled; a failure is shown in the status area (through
 * `describe`, default errorNotice) and the button enabled again.
 */
export function onIdentitySubmit(
  parts: IdentityForm,
  action: () => Promise<void>,
  describe: (err: unknown) => HTMLElement = errorNotice,
): void {
  const { form, nickname, creds, submit, status } = parts
  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    const bad = nicknameProblem(nickname.value)
    const problem = bad ? `nickname "${nickname.value}": ${bad}` : creds.problem()
    if (problem) {
      status.replaceChildren(notice('error', problem))
      return
    }
    submit.disabled = true
    try {
      await action()
    } catch (err) {
      status.replaceChildren(describe(err))
      submit.disabled = false
    }
  })
}

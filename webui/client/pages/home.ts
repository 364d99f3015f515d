import { api } from '../api.js'
import { field, h, notice } from '../dom.js'
import { errorNotice, page } from '../layout.js'

/** First run: create or restore. Later: log in (or go straight to the account when logged in). */
page('Welcome', (main, session) => {
  if (session.identity) {
    location.replace('/account')
    return
  }
  if (session.firstRun) {
    main.append(
      h(
        'p',
        { class: 'lead' },
        'ParanoIM lets your usual Jabber app talk over an anonymous peer-to-peer network.',
      ),
      h(
        'p',
        {},
        'To start, create an identity: a key pair made in this browser and locked with your password. ',
        'It also becomes your Jabber account on this bridge.',
      ),
      h(
        'div',
        { class: 'actions' },
        h('a', { class: 'button', href: '/create' }, 'Create an identity'),
        h('a', { class: 'button secondary', href: '/restore' }, 'Restore from a backup'),
      ),
    )
    return
  }
  main.append(
    loginForm(),
    h(
      'p',
      {},
      h('a', { href: '/create' }, 'Create another identity'),
      ' · ',
      h('a', { href: '/restore' }, 'Restore from a backup'),
    ),
  )
})

function loginForm(): HTMLElement {
  const nickname = h('input', {
    name: 'nickname',
    autocomplete: 'username',
    required: true,
  })
  const password = h('input', {
    name: 'password',
    type: 'password',
    autocomplete: 'current-password',
    required: true,
  })
  const status = h('div', {})
  const submit = h('button', { type: 'submit' }, 'Log in')
  const form = h(
    'form',
    { class: 'card' },
    h('h2', {}, 'Log in'),
    field('Nickname', nickname),
    field('Password', password, 'The password of your identity (and of your Jabber account).'),
    submit,
    status,
  )
  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    submit.disabled = true
    status.replaceChildren(notice('info', 'Checking the password…'))
    try {
      await api('POST', '/api/session/login', { nickname: nickname.value, password: password.value })
      location.assign('/account')
    } catch (err) {
      status.replaceChildren(errorNotice(err))
      submit.disabled = false
    }
  })
  return form
}

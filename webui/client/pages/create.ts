import { nicknameProblem } from '../../../bridge/service/identity-rules.js'
import type { SessionInfo } from '../../shared/api-types.js'
import { api, toBase64 } from '../api.js'
import { field, h, notice } from '../dom.js'
import { createSealedIdentity } from '../kdf.js'
import { errorNotice, page } from '../layout.js'
import { progressBar } from '../widgets.js'
import { credentialFields, mayCreate } from './identity-form.js'

/** A new identity: the key pair is generated and sealed in this browser; only the sealed key is sent. */
page('Create an identity', (main, session) => {
  if (!mayCreate(main, session)) return
  const nickname = h('input', { name: 'nickname', autocomplete: 'username', required: true, maxlength: '32' })
  const creds = credentialFields(session)
  const status = h('div', {})
  const submit = h('button', { type: 'submit' }, 'Create identity')
  const form = h(
    'form',
    { class: 'card' },
    field(
      'Nickname',
      nickname,
      'Lowercase letters, digits, ".", "_" or "-". It is your Jabber name on this bridge.',
    ),
    ...creds.fields,
    submit,
    status,
  )
  main.append(
    h(
      'p',
      {},
      'Your key pair is made here, in the browser, and locked with your password before it is sent to the bridge.',
    ),
    form,
  )
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
      await create(session, nickname.value, creds.password(), creds.adminPassword(), status)
      location.assign('/account?new=1')
    } catch (err) {
      status.replaceChildren(errorNotice(err))
      submit.disabled = false
    }
  })
})

async function create(
  session: SessionInfo,
  nickname: string,
  password: string,
  adminPassword: string | undefined,
  status: HTMLElement,
): Promise<void> {
  const progress = progressBar('Generating your key pair and locking it with your password…')
  status.replaceChildren(progress.el)
  const started = Date.now()
  const created = await createSealedIdentity(password, session.kdf, (fraction) =>
    progress.set(fraction, `Locking your key with your password (scrypt): ${Math.round(fraction * 100)} %`),
  )
  progress.set(1, `Key locked in ${((Date.now() - started) / 1000).toFixed(1)} s. Saving it on the bridge…`)
  await api('POST', '/api/identities', {
    nickname,
    sealedKey: toBase64(created.sealedKey),
    password,
    adminPassword,
  })
}

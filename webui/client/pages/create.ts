import type { SessionInfo } from '../../shared/api-types.js'
import { api, toBase64 } from '../api.js'
import { field, h } from '../dom.js'
import { createSealedIdentity } from '../kdf.js'
import { page } from '../layout.js'
import { progressBar } from '../widgets.js'
import { credentialFields, mayCreate, onIdentitySubmit } from './identity-form.js'

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
  onIdentitySubmit({ form, nickname, creds, submit, status }, async () => {
    await create(session, nickname.value, creds.password(), creds.adminPassword(), status)
    location.assign('/account?new=1')
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

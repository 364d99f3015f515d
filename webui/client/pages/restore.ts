import jsqr from 'jsqr'
import { backupFromFile, backupFromQrPayloads, backupFromText } from '../../../bridge/crypto/backup.js'
import { api, toBase64 } from '../api.js'
import { field, h, notice } from '../dom.js'
import { KdfError, openSealedKey } from '../kdf.js'
import { errorNotice, page } from '../layout.js'
import { progressBar } from '../widgets.js'
import { credentialFields, mayCreate, onIdentitySubmit } from './identity-form.js'

type Source = 'text' | 'file' | 'qr'

// jsqr is CommonJS whose module.exports is the function and also carries it as `.default`.
const jsQR = jsqr.default

/**
 * Restores an identity from any backup form. The backup is decoded and its
 * password checked here, so a mistyped line, a missing QR part or a wrong
 * password is named before anything is sent.
 */
page('Restore from a backup', (main, session) => {
  if (!mayCreate(main, session)) return
  const source = sourceChooser()
  const nickname = h('input', { name: 'nickname', autocomplete: 'username', required: true, maxlength: '32' })
  const creds = credentialFields(session)
  const status = h('div', {})
  const submit = h('button', { type: 'submit' }, 'Restore identity')
  const form = h(
    'form',
    { class: 'card' },
    source.el,
    field('Nickname on this bridge', nickname, 'Your Jabber name here; it need not be the old one.'),
    ...creds.fields,
    submit,
    status,
  )
  main.append(form)
  onIdentitySubmit(
    { form, nickname, creds, submit, status },
    async () => {
      const blob = await source.read()
      await restore(blob, nickname.value, creds.password(), creds.adminPassword(), status)
      location.assign('/account')
    },
    restoreError,
  )
})

function restoreError(err: unknown): HTMLElement {
  if (err instanceof KdfError && err.code === 'WRONG_PASSWORD') {
    return notice(
      'error',
      'Wrong password: this backup does not open with it. Use the password the identity had when the backup was made.',
    )
  }
  return errorNotice(err)
}

async function restore(
  blob: Uint8Array,
  nickname: string,
  password: string,
  adminPassword: string | undefined,
  status: HTMLElement,
): Promise<void> {
  const progress = progressBar('Checking the password…')
  status.replaceChildren(progress.el)
  await openSealedKey(blob, password, (f) =>
    progress.set(f, `Checking the password (scrypt): ${Math.round(f * 100)} %`),
  )
  progress.set(1, 'Password correct. Saving the identity on the bridge…')
  await api('POST', '/api/identities', { nickname, sealedKey: toBase64(blob), password, adminPassword })
}

function sourceChooser(): { el: HTMLElement; read(): Promise<Uint8Array> } {
  const text = h('textarea', { name: 'backupText', rows: '8', spellcheck: 'false' })
  const file = h('input', { type: 'file', name: 'backupFile', accept: '.paranoim-key,.txt,text/plain' })
  const qrImages = h('input', { type: 'file', name: 'qrImages', accept: 'image/*', multiple: true })
  const qrPayloads = h('textarea', { name: 'qrPayloads', rows: '3', spellcheck: 'false' })
  const panels: Record<Source, HTMLElement> = {
    text: field('Backup text', text, 'Type or paste the whole text, line numbers included.'),
    file: field('Backup file', file),
    qr: h(
      'div',
      {},
      field('QR code images', qrImages, 'Photos or scans of all three codes.'),
      field('…or the QR payloads', qrPayloads, 'One per line, as a QR reader app shows them.'),
    ),
  }
  let current: Source = 'text'
  const tabs = (Object.keys(panels) as Source[]).map((name) =>
    h(
      'label',
      { class: 'tab' },
      h('input', { type: 'radio', name: 'source', value: name, checked: name === current }),
      {
        text: 'Text',
        file: 'File',
        qr: 'QR codes',
      }[name],
    ),
  )
  const body = h('div', {}, panels[current])
  const el = h('fieldset', {}, h('legend', {}, 'Backup'), h('div', { class: 'tabs' }, ...tabs), body)
  el.addEventListener('change', (event) => {
    const target = event.target as HTMLInputElement
    if (target.name !== 'source') return
    current = target.value as Source
    body.replaceChildren(panels[current])
  })
  return {
    el,
    async read() {
      if (current === 'text') return backupFromText(text.value)
      if (current === 'file') {
        const chosen = file.files?.[0]
        if (!chosen) throw new Error('choose the backup file')
        return backupFromFile(await chosen.text())
      }
      const images = Array.from(qrImages.files ?? [])
      const payloads = images.length
        ? await Promise.all(images.map(decodeQrImage))
        : qrPayloads.value
            .split('\n')
            .map((l) => l.trim())
            .filter(Boolean)
      return backupFromQrPayloads(payloads)
    },
  }
}

async function decodeQrImage(image: File): Promise<string> {
  const bitmap = await createImageBitmap(image)
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height)
  const ctx = canvas.getContext('2d')
  if (!ctx) throw new Error('this browser cannot read images')
  ctx.drawImage(bitmap, 0, 0)
  const data = ctx.getImageData(0, 0, bitmap.width, bitmap.height)
  const code = jsQR(data.data, data.width, data.height)
  if (!code) throw new Error(`no QR code found in ${image.name}`)
  return code.data
}

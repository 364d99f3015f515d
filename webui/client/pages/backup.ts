import { backupFromFile, backupToQrPayloads, backupToText } from '../../../bridge/crypto/backup.js'
import type { BackupInfo } from '../../shared/api-types.js'
import { api } from '../api.js'
import { field, h, notice } from '../dom.js'
import { errorNotice, page } from '../layout.js'
import { download, groupAddress, qrCanvas } from '../widgets.js'

/**
 * The three backup forms of the sealed key: text and QR codes on a printable
 * sheet, and a file. The password is asked first (a session left open must not
 * be enough, and it proves the user still knows it); the backups are locked
 * with it and do not contain it.
 */
page(
  'Backup',
  (main) => {
    const password = h('input', {
      type: 'password',
      name: 'password',
      autocomplete: 'current-password',
      required: true,
    })
    const status = h('div', {})
    const form = h(
      'form',
      { class: 'card no-print' },
      h(
        'p',
        {},
        'Enter your password to show your backup. Without a backup, a lost disk or a forgotten password loses this identity for good.',
      ),
      field('Password', password),
      h('button', { type: 'submit' }, 'Show backup'),
      status,
    )
    main.append(form)
    form.addEventListener('submit', async (event) => {
      event.preventDefault()
      status.replaceChildren(notice('info', 'Checking the password…'))
      try {
        const info = await api<BackupInfo>('POST', '/api/backup', { password: password.value })
        form.replaceWith(...backupSheet(info))
      } catch (err) {
        status.replaceChildren(errorNotice(err))
      }
    })
  },
  { login: true },
)

function backupSheet(info: BackupInfo): HTMLElement[] {
  const blob = backupFromFile(info.file)
  const text = backupToText(blob)
  const qrs = backupToQrPayloads(blob).map((payload, i) =>
    qrCanvas(payload, `backup QR code part ${i + 1} of 3`),
  )
  const button = (id: string, label: string, onclick: () => void) =>
    h('button', { type: 'button', id, onclick }, label)
  return [
    h(
      'div',
      { class: 'actions no-print' },
      button('print', 'Print this page', () => print()),
      button('download-file', 'Download backup file', () =>
        download(`${info.nickname}.paranoim-key`, info.file, 'text/plain'),
      ),
      button('download-text', 'Download text', () =>
        download(`${info.nickname}-backup.txt`, text, 'text/plain'),
      ),
      button('download-qr', 'Download QR images', () => downloadQrs(info.nickname, qrs)),
    ),
    h(
      'section',
      { class: 'sheet' },
      h('h2', {}, `ParanoIM key backup: ${info.nickname}`),
      h('p', {}, 'Address: ', h('span', { class: 'address' }, groupAddress(info.address))),
      h(
        'p',
        {},
        'This backup is locked with the identity password, which it does not contain: keep the two apart. ',
        'Restore from the text, from the file, or from all three QR codes.',
      ),
      h('pre', { class: 'backup-text', id: 'backup-text' }, text),
      h(
        'div',
        { class: 'qr-row' },
        ...qrs.map((c, i) => h('figure', {}, c, h('figcaption', {}, `Part ${i + 1} of 3`))),
      ),
    ),
  ]
}

async function downloadQrs(nickname: string, canvases: HTMLCanvasElement[]): Promise<void> {
  for (const [i, canvas] of canvases.entries()) {
    const png = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/png'))
    if (png) download(`${nickname}-backup-qr-${i + 1}-of-3.png`, png, 'image/png')
  }
}

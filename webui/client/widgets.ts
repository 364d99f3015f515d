import QRCode from 'qrcode'
import { h } from './dom.js'

/** A QR code drawn on a canvas (no data: URLs needed under the CSP). */
export function qrCanvas(text: string, label: string): HTMLCanvasElement {
  const canvas = h('canvas', { class: 'qr', role: 'img', 'aria-label': label })
  QRCode.toCanvas(canvas, text, { errorCorrectionLevel: 'M', margin: 2, scale: 5 }, (err) => {
    if (err) canvas.replaceWith(h('p', { class: 'notice error' }, `QR code failed: ${err.message}`))
  })
  return canvas
}

export function progressBar(label: string): { el: HTMLElement; set(fraction: number, text?: string): void } {
  const bar = h('progress', { max: '1', value: '0' })
  const caption = h('span', {}, label)
  return {
    el: h('div', { class: 'progress', role: 'status' }, caption, bar),
    set(fraction, text) {
      bar.value = fraction
      if (text) caption.textContent = text
    },
  }
}

export function download(filename: string, contents: BlobPart, type: string): void {
  const url = URL.createObjectURL(new Blob([contents], { type }))
  const a = h('a', { href: url, download: filename })
  document.body.append(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 10_000)
}

/** Splits a long address into groups of 4 for reading aloud and comparing. */
export function groupAddress(address: string): string {
  return address.match(/.{1,4}/g)?.join(' ') ?? address
}

export function copyButton(text: string): HTMLElement {
  const button = h('button', { type: 'button', class: 'small' }, 'Copy')
  button.addEventListener('click', async () => {
    await navigator.clipboard.writeText(text)
    button.textContent = 'Copied'
  })
  return button
}

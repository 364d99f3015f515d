import jsqrModule from 'jsqr'
import { PNG } from 'pngjs'
import QRCode from 'qrcode'
import { FileError } from './errors.js'

// jsqr is CommonJS typed as an ES module: its function is the module's `default` property.
const jsQR = jsqrModule.default

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])

export function isPng(bytes: Uint8Array): boolean {
  return Buffer.from(bytes.subarray(0, PNG_SIGNATURE.length)).equals(PNG_SIGNATURE)
}

/** A PNG image of `payload` as a QR code, big enough to print and scan. */
export function renderQrPng(payload: string): Promise<Buffer> {
  return QRCode.toBuffer(payload, { type: 'png', errorCorrectionLevel: 'M', margin: 4, scale: 8 })
}

/** The text of the QR code in a PNG image; `source` names the file in errors. */
export function decodeQrPng(bytes: Uint8Array, source: string): string {
  let image: PNG
  try {
    image = PNG.sync.read(Buffer.from(bytes))
  } catch (err) {
    throw new FileError(`${source} is not a readable PNG image: ${(err as Error).message}`, { cause: err })
  }
  const pixels = new Uint8ClampedArray(image.data.buffer, image.data.byteOffset, image.data.byteLength)
  const code = jsQR(pixels, image.width, image.height)
  if (!code) throw new FileError(`no QR code found in ${source}`)
  return code.data
}

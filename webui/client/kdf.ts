import type { KdfParams } from '../shared/api-types.js'
import type { KdfReply, KdfRequest } from './kdf-protocol.js'

/** A failure inside the worker, with the crypto layer's code (e.g. WRONG_PASSWORD). */
export class KdfError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

type Progress = (fraction: number) => void

function run<T extends KdfReply['type']>(
  request: KdfRequest,
  onProgress: Progress,
): Promise<Extract<KdfReply, { type: T }>> {
  const worker = new Worker('/build/kdf-worker.js', { type: 'module' })
  return new Promise<Extract<KdfReply, { type: T }>>((resolve, reject) => {
    worker.addEventListener('message', (event: MessageEvent<KdfReply>) => {
      const msg = event.data
      if (msg.type === 'progress') return onProgress(msg.fraction)
      worker.terminate()
      if (msg.type === 'error') reject(new KdfError(msg.code, msg.message))
      else resolve(msg as Extract<KdfReply, { type: T }>)
    })
    worker.addEventListener('error', (event) => {
      worker.terminate()
      reject(new KdfError('WORKER_FAILED', event.message || 'the key worker failed to start'))
    })
    worker.postMessage(request)
  })
}

/** A new key pair, generated and sealed with the password in a Web Worker. */
export function createSealedIdentity(password: string, kdf: KdfParams, onProgress: Progress) {
  return run<'created'>({ op: 'create', password, kdf }, onProgress)
}

/** Checks that the password opens the blob (throws KdfError WRONG_PASSWORD otherwise). */
export function openSealedKey(sealedKey: Uint8Array, password: string, onProgress: Progress) {
  return run<'opened'>({ op: 'open', sealedKey, password }, onProgress)
}

import { scryptAsync } from '@noble/hashes/scrypt.js'
import { encodeAddress } from '../../bridge/crypto/address.js'
import type { CryptoBackend } from '../../bridge/crypto/backend.js'
import { generateIdentity } from '../../bridge/crypto/identity.js'
import { openPrivateKey, sealPrivateKey } from '../../bridge/crypto/keyfile.js'
import { nobleBackend } from '../../bridge/crypto/noble.js'
import { ParanoimError } from '../../bridge/errors.js'
import type { KdfReply, KdfRequest } from './kdf-protocol.js'

/**
 * Runs key generation and scrypt off the page's thread, so the page stays
 * responsive and can draw progress. The key pair is born here, in the
 * browser; only the sealed blob leaves.
 */

const reply = (message: KdfReply) => postMessage(message)

/** The noble backend, with scrypt reporting how far it got. */
const backend: CryptoBackend = {
  ...nobleBackend,
  scrypt: (password, salt, { logN, r, p, dkLen }) =>
    scryptAsync(password, salt, {
      N: 2 ** logN,
      r,
      p,
      dkLen,
      maxmem: 2 ** 31,
      onProgress: (fraction) => reply({ type: 'progress', fraction }),
    }),
}

async function handle(request: KdfRequest): Promise<KdfReply> {
  if (request.op === 'create') {
    const identity = generateIdentity(backend)
    const sealedKey = await sealPrivateKey(identity, request.password, request.kdf, backend)
    return { type: 'created', address: encodeAddress(identity.publicKey), sealedKey }
  }
  const identity = await openPrivateKey(request.sealedKey, request.password, backend)
  return { type: 'opened', address: encodeAddress(identity.publicKey) }
}

addEventListener('message', (event: MessageEvent<KdfRequest>) => {
  handle(event.data).then(reply, (err: unknown) => {
    const code = err instanceof ParanoimError ? err.code : 'WORKER_FAILED'
    reply({ type: 'error', code, message: err instanceof Error ? err.message : String(err) })
  })
})

import { readFile, writeFile } from 'node:fs/promises'
import type { CryptoBackend } from '../crypto/backend.js'
import { defaultBackend } from '../crypto/default-backend.js'
import { generateIdentity, type Identity, identityFromSeed } from '../crypto/identity.js'
import { NetError } from './errors.js'

/**
 * The node key (relay role; never a user identity). With no file configured
 * it is fresh at each start, so a relay cannot be followed across restarts.
 * With a file, its 32-byte seed is kept there as 64 hex digits, created on
 * first use with mode 0600.
 */
export async function loadNodeKey(
  nodeKeyFile: string,
  backend: CryptoBackend = defaultBackend,
): Promise<Identity> {
  if (nodeKeyFile === '') return generateIdentity(backend)
  let text: string
  try {
    text = await readFile(nodeKeyFile, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new NetError(
        'NODE_KEY_FILE',
        `cannot read node key file ${nodeKeyFile}: ${(error as Error).message}`,
      )
    }
    const identity = generateIdentity(backend)
    await writeFile(nodeKeyFile, `${Buffer.from(identity.seed).toString('hex')}\n`, {
      mode: 0o600,
      flag: 'wx',
    })
    return identity
  }
  const hex = text.trim()
  if (!/^[0-9a-f]{64}$/i.test(hex)) {
    throw new NetError(
      'NODE_KEY_FILE',
      `node key file ${nodeKeyFile} must hold 64 hex digits (a 32-byte seed)`,
    )
  }
  return identityFromSeed(new Uint8Array(Buffer.from(hex, 'hex')), backend)
}

import type { CryptoBackend } from '../crypto/backend.js'
import { blindedSigner, blindPublicKey } from '../crypto/blind.js'
import { DOMAIN } from '../crypto/domains.js'
import { AeadError } from '../crypto/errors.js'
import type { Identity } from '../crypto/identity.js'
import { xchachaOpen, xchachaSeal } from '../crypto/xchacha.js'
import type { Clock } from '../net/udp-node.js'
import { BLINDED_NONCE_LENGTH, MAX_RECORD_BODY_LENGTH, RecordKind } from '../wire/record.js'
import type { DhtConfig } from './dht-node.js'
import { RecordError } from './errors.js'
import { periodsToLookUp, periodsToPublish } from './period.js'
import type { PublishedRecord, Records } from './records.js'

/**
 * Rendezvous-style records that DHT nodes can neither enumerate nor read
 * (Tor v3 onion-service descriptors, adapted to BEP 44):
 *
 *   record key (BEP 44 k, no salt) = blindPublicKey(address, period)   — crypto/blind.ts
 *   body key = HKDF-SHA256(ikm = address, salt = blinded key,
 *                          info = "paranoim/v1/record-body-key" ‖ period (8, BE), 32)
 *   body     = nonce (24, random) ‖ XChaCha20-Poly1305(body key, nonce, plaintext, aad = blinded key)
 *
 * The blinded key for one period reveals neither the address nor the key of
 * another period; whoever knows the address derives both the key to look up
 * and the key to decrypt. The BEP 44 signature comes from the blinded signer,
 * so storing nodes verify it with plain Ed25519.
 */
export const MAX_BLINDED_PLAINTEXT = MAX_RECORD_BODY_LENGTH - BLINDED_NONCE_LENGTH - 16

function periodBytes(period: number): Uint8Array {
  const out = new Uint8Array(8)
  new DataView(out.buffer).setBigUint64(0, BigInt(period))
  return out
}

export function blindedRecordKey(address: Uint8Array, period: number, backend: CryptoBackend): Uint8Array {
  return blindPublicKey(address, period, backend)
}

export function recordBodyKey(address: Uint8Array, period: number, backend: CryptoBackend): Uint8Array {
  const info = new Uint8Array([...new TextEncoder().encode(DOMAIN.recordBodyKey), ...periodBytes(period)])
  return backend.hkdfSha256(address, blindedRecordKey(address, period, backend), info, 32)
}

export function sealBlindedBody(
  address: Uint8Array,
  period: number,
  plaintext: Uint8Array,
  backend: CryptoBackend,
): Uint8Array {
  if (plaintext.length > MAX_BLINDED_PLAINTEXT) {
    throw new RecordError(
      'RECORD_TOO_LARGE',
      `plaintext of ${plaintext.length} bytes (at most ${MAX_BLINDED_PLAINTEXT})`,
    )
  }
  const nonce = backend.randomBytes(BLINDED_NONCE_LENGTH)
  const aad = blindedRecordKey(address, period, backend)
  const sealed = xchachaSeal(recordBodyKey(address, period, backend), nonce, plaintext, aad, backend)
  const body = new Uint8Array(nonce.length + sealed.length)
  body.set(nonce)
  body.set(sealed, nonce.length)
  return body
}

/** Throws RecordError RECORD_UNEXPECTED when the body was not sealed for this address and period. */
export function openBlindedBody(
  address: Uint8Array,
  period: number,
  body: Uint8Array,
  backend: CryptoBackend,
): Uint8Array {
  const nonce = body.subarray(0, BLINDED_NONCE_LENGTH)
  const aad = blindedRecordKey(address, period, backend)
  try {
    return xchachaOpen(
      recordBodyKey(address, period, backend),
      nonce,
      body.subarray(BLINDED_NONCE_LENGTH),
      aad,
      backend,
    )
  } catch (error) {
    if (error instanceof AeadError)
      throw new RecordError('RECORD_UNEXPECTED', 'blinded body does not decrypt', { cause: error })
    throw error
  }
}

export interface BlindedRecords {
  /** Publishes `plaintext` under the current period's key (and the next one's near the boundary). */
  publish(identity: Identity, plaintext: Uint8Array): Promise<PublishedRecord[]>
  /** Publishes now and keeps republishing (new periods included) until `disown`; calling again replaces the plaintext. */
  own(identity: Identity, plaintext: Uint8Array): Promise<PublishedRecord[]>
  disown(address: Uint8Array): void
  /** The newest plaintext published for `address`, or null. Throws RecordError when what the DHT holds is refused. */
  fetch(address: Uint8Array): Promise<Uint8Array | null>
}

export function createBlindedRecords(options: {
  records: Records
  config: DhtConfig
  clock: Clock
  backend: CryptoBackend
}): BlindedRecords {
  const { records, config, clock, backend } = options
  const ownerName = (address: Uint8Array) => `blinded/${Buffer.from(address).toString('hex')}`

  async function publish(identity: Identity, plaintext: Uint8Array): Promise<PublishedRecord[]> {
    const periods = periodsToPublish(clock.now(), config.periodMs, config.periodOverlapMs)
    return Promise.all(
      periods.map((period) =>
        records.publish({
          signer: blindedSigner(identity, period, backend),
          kind: RecordKind.blinded,
          body: sealBlindedBody(identity.publicKey, period, plaintext, backend),
        }),
      ),
    )
  }

  async function fetch(address: Uint8Array): Promise<Uint8Array | null> {
    for (const period of periodsToLookUp(clock.now(), config.periodMs, config.periodOverlapMs)) {
      const record = await records.fetch(
        blindedRecordKey(address, period, backend),
        undefined,
        RecordKind.blinded,
      )
      if (record) return openBlindedBody(address, period, record.body, backend)
    }
    return null
  }

  return {
    publish,
    async own(identity, plaintext) {
      const copy = plaintext.slice()
      records.own(ownerName(identity.publicKey), () => publish(identity, copy))
      return publish(identity, copy)
    },
    disown(address) {
      records.disown(ownerName(address))
    },
    fetch,
  }
}

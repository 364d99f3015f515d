import { concatBytes } from '@noble/hashes/utils.js'
import { assertBytes, assertInteger } from './assert.js'
import type { CryptoBackend } from './backend.js'
import { defaultBackend } from './default-backend.js'
import { DOMAIN } from './domains.js'
import { signedBytes } from './sign.js'

/**
 * Hashcash stamps for mailbox deposits (docs/protocol.md "Mailboxes" →
 * "Stamps"). A stamp is an 8-byte nonce such that
 *
 *   v = SHA-256(len ‖ "paranoim/v1/mailbox-stamp" ‖ mailbox id ‖ SHA-256(item)
 *               ‖ expiry (4, BE seconds) ‖ nonce)[0..8] as a big-endian integer
 *   v · work < 2^64,   work = 2^difficulty · ⌈item length / 256⌉
 *
 * so the expected number of hashes is `work`: it doubles with each difficulty
 * bit and grows linearly with the bytes deposited, while checking costs two
 * hashes. The stamp binds the mailbox, the item and the expiry, so it can be
 * neither moved to another mailbox nor stretched to a longer retention; it
 * does not bind the holder, so one stamp serves all k holders.
 */
export const STAMP_NONCE_LENGTH = 8
export const STAMP_UNIT_BYTES = 256
const MAX_DIFFICULTY = 40
const TWO_64 = 1n << 64n

export interface StampSubject {
  mailboxId: Uint8Array
  item: Uint8Array
  /** Unix seconds: the item's expiry. */
  expiry: number
}

/** Expected hashes to mint a stamp for `size` bytes at `difficulty` bits per 256-byte unit. */
export function stampWork(size: number, difficulty: number): bigint {
  assertInteger(size, 'size', 1, Number.MAX_SAFE_INTEGER)
  assertInteger(difficulty, 'difficulty', 0, MAX_DIFFICULTY)
  return (1n << BigInt(difficulty)) * BigInt(Math.ceil(size / STAMP_UNIT_BYTES))
}

/** Everything hashed before the nonce (a minting worker gets it with the work: bridge/crypto/stamp-pool.ts). */
export function stampPrefix(subject: StampSubject, backend: CryptoBackend): Uint8Array {
  assertBytes(subject.mailboxId, 'mailboxId')
  assertBytes(subject.item, 'item')
  assertInteger(subject.expiry, 'expiry', 0, 0xffffffff)
  const expiry = new Uint8Array(4)
  new DataView(expiry.buffer).setUint32(0, subject.expiry)
  return signedBytes(
    DOMAIN.mailboxStamp,
    concatBytes(subject.mailboxId, backend.sha256(subject.item), expiry),
  )
}

function stampValue(prefix: Uint8Array, nonce: Uint8Array, backend: CryptoBackend): bigint {
  const hash = backend.sha256(concatBytes(prefix, nonce))
  return new DataView(hash.buffer, hash.byteOffset, 8).getBigUint64(0)
}

/** Two hashes: whether `nonce` is a stamp for `subject` at `difficulty`. */
export function checkStamp(
  subject: StampSubject,
  nonce: Uint8Array,
  difficulty: number,
  backend: CryptoBackend = defaultBackend,
): boolean {
  if (!(nonce instanceof Uint8Array) || nonce.length !== STAMP_NONCE_LENGTH) return false
  const work = stampWork(subject.item.length, difficulty)
  return stampValue(stampPrefix(subject, backend), nonce, backend) * work < TWO_64
}

/** Searches nonces from `start` upward (a counter in the 8 bytes) until one is a stamp; ~stampWork hashes. */
export function mintStamp(
  subject: StampSubject,
  difficulty: number,
  backend: CryptoBackend = defaultBackend,
  start = 0n,
): Uint8Array {
  const work = stampWork(subject.item.length, difficulty)
  const prefix = stampPrefix(subject, backend)
  const nonce = new Uint8Array(STAMP_NONCE_LENGTH)
  const view = new DataView(nonce.buffer)
  for (let counter = BigInt.asUintN(64, start); ; counter = BigInt.asUintN(64, counter + 1n)) {
    view.setBigUint64(0, counter)
    if (stampValue(prefix, nonce, backend) * work < TWO_64) return nonce
  }
}

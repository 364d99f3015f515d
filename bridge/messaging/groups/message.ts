import type { CryptoBackend } from '../../crypto/backend.js'
import { AeadError } from '../../crypto/errors.js'
import type { Identity } from '../../crypto/identity.js'
import { xchachaOpen, xchachaSeal } from '../../crypto/xchacha.js'
import {
  encodeGroupMessage,
  type GroupMessageHeader,
  MAILBOX_ITEM_BYTES,
  NONCE_BYTES,
  type NormalGroupMessage,
  normalMessageAad,
  normalMessageSignedBytes,
  padMailboxMessage,
  unpadMailboxMessage,
} from '../../wire/group-message.js'
import { GroupError, malformedIfWire } from './errors.js'

/**
 * Sealing and opening one group message (docs/protocol.md "Groups" → "Group
 * messages"), without any state: session.ts decides which key and sender are
 * acceptable. Normal mode: sealed once under the epoch's message key and
 * signed by the sender's identity, so members who relay it can neither read
 * it without the key nor forge or alter it. High mode: the body in clear, for
 * the pairwise envelope to seal, one copy per member.
 */
export interface SealInput {
  header: Omit<GroupMessageHeader, 'mode' | 'sender'>
  sender: Identity
  body: Uint8Array
}

export function sealNormal(
  backend: CryptoBackend,
  key: Uint8Array,
  input: SealInput,
  random: (n: number) => Uint8Array,
): Uint8Array {
  const header = { ...input.header, mode: 'normal' as const, sender: input.sender.publicKey }
  const nonce = random(NONCE_BYTES)
  const ciphertext = xchachaSeal(key, nonce, input.body, normalMessageAad(header, nonce), backend)
  const unsigned = { ...header, nonce, ciphertext }
  const signature = backend.ed25519Sign(input.sender.seed, normalMessageSignedBytes(unsigned))
  return encodeGroupMessage({ ...unsigned, signature })
}

export function sealHigh(input: SealInput): Uint8Array {
  return encodeGroupMessage({
    ...input.header,
    mode: 'high',
    sender: input.sender.publicKey,
    body: input.body,
  })
}

/** The signature first (anyone can check it), then the AEAD. Throws GroupError MESSAGE_AUTH. */
export function openNormal(backend: CryptoBackend, key: Uint8Array, m: NormalGroupMessage): Uint8Array {
  if (!backend.ed25519Verify(m.sender, normalMessageSignedBytes(m), m.signature))
    throw new GroupError('MESSAGE_AUTH', "the message's signature does not verify under its sender")
  try {
    return xchachaOpen(key, m.nonce, m.ciphertext, normalMessageAad(m, m.nonce), backend)
  } catch (cause) {
    if (cause instanceof AeadError)
      throw new GroupError('MESSAGE_AUTH', 'the message does not open under its epoch key', { cause })
    throw cause
  }
}

/** Whether a normal message is authentic, without its key: what a relaying non-holder can check. */
export function verifyNormal(backend: CryptoBackend, m: NormalGroupMessage): boolean {
  return backend.ed25519Verify(m.sender, normalMessageSignedBytes(m), m.signature)
}

/** A group message as one group mailbox item (fixed size), sealed under the epoch's mailbox item key. */
export function sealMailboxItem(
  backend: CryptoBackend,
  itemKey: Uint8Array,
  message: Uint8Array,
  random: (n: number) => Uint8Array,
): Uint8Array {
  const padded = malformedIfWire(() => padMailboxMessage(message))
  const nonce = random(NONCE_BYTES)
  const item = new Uint8Array(MAILBOX_ITEM_BYTES)
  item.set(nonce)
  item.set(xchachaSeal(itemKey, nonce, padded, undefined, backend), NONCE_BYTES)
  return item
}

/** The group message in a group mailbox item. Throws GroupError MESSAGE_AUTH or GROUP_MALFORMED. */
export function openMailboxItem(backend: CryptoBackend, itemKey: Uint8Array, item: Uint8Array): Uint8Array {
  if (!(item instanceof Uint8Array) || item.length !== MAILBOX_ITEM_BYTES)
    throw new GroupError('GROUP_MALFORMED', `a group mailbox item is ${MAILBOX_ITEM_BYTES} bytes`)
  let padded: Uint8Array
  try {
    padded = xchachaOpen(
      itemKey,
      item.subarray(0, NONCE_BYTES),
      item.subarray(NONCE_BYTES),
      undefined,
      backend,
    )
  } catch (cause) {
    if (cause instanceof AeadError)
      throw new GroupError('MESSAGE_AUTH', 'the item does not open under this mailbox key', { cause })
    throw cause
  }
  return malformedIfWire(() => unpadMailboxMessage(padded))
}

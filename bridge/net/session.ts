import type { CryptoBackend } from '../crypto/backend.js'
import { encodeTransportHeader, TRANSPORT_HEADER_LENGTH, type Transport } from '../wire/link.js'
import type { SessionKeys } from './noise-nk.js'
import { ReplayWindow } from './replay-window.js'

/**
 * The keys of one completed handshake and their counters. A packet's nonce is
 * four zero bytes and its 8-byte little-endian counter — exactly the counter
 * field of its header, so the receiver needs no state to rebuild it.
 */
export class Session {
  sendCounter = 0
  readonly window: ReplayWindow

  constructor(
    private readonly backend: CryptoBackend,
    /** The id peers put in front of packets for us. */
    readonly localId: number,
    /** The id we put in front of packets for the peer. */
    readonly remoteId: number,
    private readonly keys: SessionKeys,
    readonly createdAt: number,
    replayWindow: number,
  ) {
    this.window = new ReplayWindow(replayWindow)
  }

  get resumeKey(): Uint8Array {
    return this.keys.resumeKey
  }

  /** Seals one link message into a complete transport packet and advances the counter. */
  seal(plaintext: Uint8Array): Uint8Array {
    const header = encodeTransportHeader(this.remoteId, this.sendCounter++)
    const sealed = this.backend.chacha20poly1305Seal(this.keys.sendKey, nonceOf(header), plaintext)
    const packet = new Uint8Array(header.length + sealed.length)
    packet.set(header, 0)
    packet.set(sealed, header.length)
    return packet
  }

  /** Opens a transport packet's body; throws AeadError when it was not sealed with this session's key. */
  open(transport: Transport, packet: Uint8Array): Uint8Array {
    return this.backend.chacha20poly1305Open(this.keys.receiveKey, nonceOf(packet), transport.sealed)
  }
}

/** Nonce = 0x00000000 ‖ the header's 8 counter bytes. */
function nonceOf(header: Uint8Array): Uint8Array {
  const nonce = new Uint8Array(12)
  nonce.set(header.subarray(4, TRANSPORT_HEADER_LENGTH), 4)
  return nonce
}

/**
 * The one interface every primitive goes through, with two implementations
 * producing identical bytes (tests prove it): `nativeBackend` (node:crypto,
 * fast, the bridge's hot paths) and `nobleBackend` (@noble/*, pure JS, the
 * browser). All byte values are Uint8Array; inputs are asserted at the boundary.
 */
export interface ScryptParams {
  /** log2 of the CPU/memory cost N. */
  logN: number
  r: number
  p: number
  dkLen: number
}

export interface CryptoBackend {
  readonly name: 'native' | 'noble'
  randomBytes(n: number): Uint8Array
  sha256(data: Uint8Array): Uint8Array
  sha512(data: Uint8Array): Uint8Array
  hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array
  /** RFC 5869 HKDF with SHA-256. */
  hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array
  /** RFC 8032 §5.1.5: the public key of a 32-byte seed. */
  ed25519PublicKey(seed: Uint8Array): Uint8Array
  /** RFC 8032 §5.1.6: a 64-byte signature. */
  ed25519Sign(seed: Uint8Array, message: Uint8Array): Uint8Array
  /** RFC 8032 §5.1.7 (cofactorless, canonical S). Returns false on any bad input, never throws. */
  ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean
  /** RFC 7748 §6.1: X25519(priv, 9). */
  x25519PublicKey(privateKey: Uint8Array): Uint8Array
  /** RFC 7748 §6.1 shared secret; throws CryptoError when it is all zero (low-order peer key). */
  x25519(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array
  /**
   * RFC 8439 §2.4 ChaCha20 (96-bit nonce) without authentication: `data` XOR the
   * key stream starting at block `counter` (default 0). For onion hop layers,
   * which must keep their size and are authenticated end to end.
   */
  chacha20(key: Uint8Array, nonce: Uint8Array, data: Uint8Array, counter?: number): Uint8Array
  /** RFC 8439 §2.8: ciphertext ‖ 16-byte tag. */
  chacha20poly1305Seal(
    key: Uint8Array,
    nonce: Uint8Array,
    plaintext: Uint8Array,
    aad?: Uint8Array,
  ): Uint8Array
  /** Throws AeadError when the tag does not verify. */
  chacha20poly1305Open(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad?: Uint8Array): Uint8Array
  /** RFC 7914 scrypt. */
  scrypt(password: Uint8Array, salt: Uint8Array, params: ScryptParams): Promise<Uint8Array>
}

/**
 * Every domain-separation string of the protocol, in one list, so no two uses
 * of a key or hash can ever be confused. Layers add their own entries here
 * (one line each, `paranoim/v1/<purpose>`); never reuse one for two purposes.
 * See docs/protocol.md "Domain separation".
 */
export const DOMAIN = {
  /** blind.ts: the blinding factor h of a blinded public key (with key and period). */
  blindFactor: 'paranoim/v1/blind-factor',
  /** blind.ts: the nonce prefix of signatures by a blinded key (with seed half and period). */
  blindNonce: 'paranoim/v1/blind-nonce',
  /** backup-qr.ts: the set id that ties the three QR parts of one backup together. */
  backupQrSet: 'paranoim/v1/backup-qr-set',
  /** net/noise-nk.ts: the Noise prologue of every link handshake (binds the protocol version). */
  linkPrologue: 'paranoim/v1/link',
  /** net/noise-nk.ts: HKDF info of a link session's resumption key (proves a rekey comes from the same peer). */
  linkResume: 'paranoim/v1/link-resume',
  /** wire/descriptor.ts: the signature of a relay's node descriptor (by its node key). */
  nodeDescriptor: 'paranoim/v1/node-descriptor',
  /** dht/node-id.ts: DHT node id = SHA-256(this ‖ node public key)[0..20]. */
  dhtNodeId: 'paranoim/v1/dht-node-id',
  /** dht/relay-discovery.ts: the well-known info-hash relays announce = SHA-256(this)[0..20]. */
  relayInfoHash: 'paranoim/v1/relays',
  /** dht/blinded-record.ts: HKDF info of a blinded record's body key (with address and period). */
  recordBodyKey: 'paranoim/v1/record-body-key',
  /** onion/ntor.ts: HMAC key of a circuit handshake's verify value. */
  onionNtorVerify: 'paranoim/v1/onion-ntor-verify',
  /** onion/ntor.ts: HMAC key of the hop's AUTH proof (binds its node key to the handshake). */
  onionNtorAuth: 'paranoim/v1/onion-ntor-auth',
  /** onion/ntor.ts: HKDF info of a hop's forward, backward and end-to-end keys. */
  onionHopKeys: 'paranoim/v1/onion-hop-keys',
  /** onion/relay.ts: an intro auth key's signature registering one circuit at an intro point. */
  introRegister: 'paranoim/v1/intro-register',
} as const

export type Domain = (typeof DOMAIN)[keyof typeof DOMAIN]

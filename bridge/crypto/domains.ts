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
  /** messaging/envelope-noise.ts: the Noise prologue of every end-to-end envelope (with version and recipient). */
  envelopePrologue: 'paranoim/v1/envelope',
  /** messaging/prekeys.ts: a prekey's id = SHA-256(this ‖ prekey public key)[0..8]. */
  envelopePrekeyId: 'paranoim/v1/envelope-prekey-id',
  /** blind.ts (MAILBOX_BLINDING): the blinding factor of a mailbox key (unlinkable to the rendezvous key of the period). */
  mailboxBlindFactor: 'paranoim/v1/mailbox-blind-factor',
  /** blind.ts (MAILBOX_BLINDING): the nonce prefix of signatures by a mailbox key. */
  mailboxBlindNonce: 'paranoim/v1/mailbox-blind-nonce',
  /** onion/mailbox-address.ts: mailbox id = SHA-256(this ‖ blinded mailbox key)[0..20], in the DHT id space. */
  mailboxId: 'paranoim/v1/mailbox-id',
  /** wire/mailbox.ts: an item's id = SHA-256(this ‖ item bytes)[0..16] (the same at every holder). */
  mailboxItemId: 'paranoim/v1/mailbox-item-id',
  /** crypto/stamp.ts: the proof-of-work hash of a deposit (mailbox id, item hash, expiry, nonce). */
  mailboxStamp: 'paranoim/v1/mailbox-stamp',
  /** wire/mailbox.ts: a mailbox key's signature over the holder circuit's binding authorizing a FETCH. */
  mailboxFetch: 'paranoim/v1/mailbox-fetch',
  /** wire/mailbox.ts: a mailbox key's signature over the circuit binding and item ids of an ACK. */
  mailboxAck: 'paranoim/v1/mailbox-ack',
  /** wire/group-update.ts: the signature of a group state update (by the group key or an owner/admin identity). */
  groupUpdate: 'paranoim/v1/group-update',
  /** wire/group-update.ts: a group state's hash = SHA-256(this ‖ the update that made it), chained by prev hash. */
  groupStateHash: 'paranoim/v1/group-state-hash',
  /** wire/group-message.ts: a member's identity signature over a normal-mode group message (header ‖ ciphertext). */
  groupMessage: 'paranoim/v1/group-message',
  /** messaging/groups/keys.ts: HKDF info of the message key of one epoch (with group key and epoch). */
  groupMessageKey: 'paranoim/v1/group-message-key',
  /** messaging/groups/keys.ts: HKDF info of the group mailbox's identity seed, from an epoch's mailbox seed. */
  groupMailboxSeed: 'paranoim/v1/group-mailbox-seed',
  /** messaging/groups/keys.ts: HKDF info of the key sealing group mailbox items, from an epoch's mailbox seed. */
  groupMailboxItem: 'paranoim/v1/group-mailbox-item',
  /** messaging/groups/group-key.ts: HKDF info of the key wrapping a group's seed under an owner's identity seed. */
  groupSeedWrap: 'paranoim/v1/group-seed-wrap',
  /** wire/group-fanout.ts: the origin's signature over a group fan-out packet (every byte before it). */
  groupFanout: 'paranoim/v1/group-fanout',
  /** service/login-unlock.ts: HKDF info of the key that wraps an identity's seed under its SCRAM ClientKey. */
  xmppUnlock: 'paranoim/v1/xmpp-unlock',
} as const

export type Domain = (typeof DOMAIN)[keyof typeof DOMAIN]

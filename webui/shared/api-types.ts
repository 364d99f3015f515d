/** The JSON the web UI's HTTP API exchanges; shared by server and browser code. */

export interface KdfParams {
  logN: number
  r: number
  p: number
}

export interface SessionInfo {
  csrfToken: string
  /** The logged-in identity. */
  identity: { nickname: string; address: string } | null
  /** No identity exists yet on this bridge. */
  firstRun: boolean
  /** What creating (or restoring) an identity needs now; see docs/webui.md. */
  createRequires: 'nothing' | 'login' | 'admin-password' | 'login-or-admin-password'
  /** The cost new keys must be sealed with (at least). */
  kdf: KdfParams
}

export interface AccountInfo {
  nickname: string
  address: string
  /** null while the XMPP server does not run (its domain is unknown then). */
  jid: string | null
  xmpp: import('../../bridge/service/status.js').XmppStatus | null
}

export interface BackupInfo {
  nickname: string
  address: string
  /** The backup file (bridge/crypto/backup.ts); the page derives the text and QR forms from it. */
  file: string
}

export interface CreateIdentityRequest {
  nickname: string
  /** base64 of the sealed key made in the browser. */
  sealedKey: string
  /** Becomes the Jabber account's password (SCRAM credentials are derived on the bridge). */
  password: string
  adminPassword?: string
}

export interface ApiErrorBody {
  error: { code: string; message: string }
}

/**
 * The logged-in identity's key on this bridge: opened at web UI login
 * (scrypt, about a second), then kept open until the bridge stops.
 * 'locked': this web UI has not unlocked it (a Jabber login may have).
 */
export type KeyState = 'locked' | 'unlocking' | 'unlocked' | 'failed'

/** Whether the logged-in identity can be reached. */
export interface IdentityState {
  key: KeyState
  /** Unlocked, its inbound tunnels built and its record published on the network. */
  online: boolean
}

/** One message of the status stream. */
export interface LiveUpdate {
  status: import('../../bridge/service/status.js').BridgeStatus
  identity: IdentityState
  /** The logged-in identity's contacts and requests. */
  contacts: import('../../bridge/service/status.js').ContactView[]
  /** Messages from strangers, held until the user accepts the sender. */
  held: import('../../bridge/service/contacts.js').HeldMessage[]
}

/** `GET /api/contacts`. */
export interface ContactsInfo {
  contacts: import('../../bridge/service/status.js').ContactView[]
  held: import('../../bridge/service/contacts.js').HeldMessage[]
  /** The longest request text the bridge sends (config `gateway.maxRequestTextChars`). */
  maxRequestTextChars: number
}

/** `POST /api/contacts/request`: a contact request to an address, with a text for the person. */
export interface ContactRequestBody {
  address: string
  text: string
}

/** `POST /api/contacts/approve` and `/deny`: the answer to an incoming request. */
export interface ContactAnswerBody {
  address: string
}

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

/** One message of the status stream. */
export interface LiveUpdate {
  status: import('../../bridge/service/status.js').BridgeStatus
  /** The logged-in identity's contacts and requests; null while the network layer does not exist. */
  contacts: import('../../bridge/service/status.js').ContactView[] | null
}

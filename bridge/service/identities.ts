import type { Config } from '../config/schema.js'
import {
  backupFromFile,
  backupFromQrPayloads,
  backupFromText,
  backupToFile,
  backupToQrPayloads,
  backupToText,
  type CryptoBackend,
  defaultBackend,
  encodeAddress,
  generateIdentity,
  type Identity,
  inspectSealedKey,
  openPrivateKey,
  sealPrivateKey,
} from '../crypto/index.js'
import type { Logger } from '../log.js'
import { type IdentityRecord, identitiesTable, type Store, type Table } from '../store/index.js'
import { Accounts, credentialsTable, setAccountPassword } from '../xmpp/accounts.js'
import { IdentityError } from './errors.js'
import { MIN_PASSWORD_LENGTH, nicknameProblem } from './identity-rules.js'
import { LoginUnlock } from './login-unlock.js'

export interface IdentitySummary {
  nickname: string
  address: string
  /** Milliseconds since the epoch. */
  createdAt: number
}

/** A key backup in one of its three forms (bridge/crypto/backup.ts). */
export type Backup =
  | { format: 'text'; text: string }
  | { format: 'qr'; payloads: string[] }
  | { format: 'file'; contents: string }

export type BackupFormat = Backup['format']

export interface IdentityServiceOptions {
  store: Store
  /** The scrypt cost new keys are sealed with. */
  kdf: Config['identity']['kdf']
  log: Logger
  backend?: CryptoBackend
  now?: () => number
}

/**
 * The user's identities: create, list, back up, restore, delete. Private keys
 * are only ever stored sealed with the user's password; a password is asked
 * again wherever handing out a key could lock its owner out (export, import).
 */
export class IdentityService {
  private readonly table: Table<IdentityRecord>
  private readonly accounts: Accounts
  private readonly loginUnlock: LoginUnlock
  private readonly backend: CryptoBackend
  private readonly now: () => number
  private readonly log: Logger
  /** Changes run one at a time, so two requests cannot both take a free nickname. */
  private queue: Promise<unknown> = Promise.resolve()

  constructor(private readonly options: IdentityServiceOptions) {
    this.table = identitiesTable(options.store)
    this.accounts = new Accounts(options.store)
    this.loginUnlock = new LoginUnlock(options.store, options.backend)
    this.backend = options.backend ?? defaultBackend
    this.now = options.now ?? Date.now
    this.log = options.log.child({ c: 'identities' })
  }

  async create(nickname: string, password: string): Promise<IdentitySummary> {
    checkNickname(nickname)
    checkPasswordLength(password)
    return this.serial(async () => {
      await this.checkNicknameFree(nickname)
      const identity = generateIdentity(this.backend)
      try {
        const sealedKey = await sealPrivateKey(identity, password, this.options.kdf, this.backend)
        return await this.add(nickname, identity, sealedKey, password, 'identity created')
      } finally {
        identity.seed.fill(0)
      }
    })
  }

  async list(): Promise<IdentitySummary[]> {
    const out: IdentitySummary[] = []
    for await (const [address, record] of this.table.entries()) out.push(summary(address, record))
    return out.sort((a, b) => a.nickname.localeCompare(b.nickname))
  }

  /**
   * Whether `password` is the account password of `nickname` (web UI login),
   * checked against the stored SCRAM keys as an XMPP PLAIN login would be.
   */
  async checkPassword(nickname: string, password: string): Promise<boolean> {
    return (await this.accounts.checkPassword(nickname, password)) !== undefined
  }

  /** One identity by nickname; throws IdentityError IDENTITY_NOT_FOUND. */
  async get(nickname: string): Promise<IdentitySummary> {
    const [address, record] = await this.find(nickname)
    return summary(address, record)
  }

  /** The sealed key of `nickname` as a backup, once the password is proved to open it. */
  async exportBackup(nickname: string, password: string, format: BackupFormat): Promise<Backup> {
    const [address, record] = await this.find(nickname)
    await this.verifyPassword(record.sealedKey, password)
    this.log.info({ nickname, address, format }, 'identity exported')
    switch (format) {
      case 'text':
        return { format, text: backupToText(record.sealedKey) }
      case 'qr':
        return { format, payloads: backupToQrPayloads(record.sealedKey) }
      case 'file':
        return { format, contents: backupToFile(record.sealedKey) }
    }
  }

  /**
   * Adds a sealed key under `nickname` (from `sealedKeyFromBackup`, or sealed in
   * the browser); the password must open it.
   */
  async importSealedKey(nickname: string, sealedKey: Uint8Array, password: string): Promise<IdentitySummary> {
    checkNickname(nickname)
    const address = encodeAddress(inspectSealedKey(sealedKey).publicKey)
    return this.serial(async () => {
      const existing = await this.table.get(address)
      if (existing) {
        throw new IdentityError(
          'IDENTITY_EXISTS',
          `identity ${address} is already here, as "${existing.nickname}"`,
        )
      }
      await this.checkNicknameFree(nickname)
      const identity = await openPrivateKey(sealedKey, password, this.backend)
      try {
        return await this.add(nickname, identity, sealedKey, password, 'identity imported')
      } finally {
        identity.seed.fill(0)
      }
    })
  }

  /**
   * The identity's key, opened with its password (scrypt: about a second).
   * Also refreshes the copy a Jabber login opens. Throws WrongPasswordError.
   */
  async open(nickname: string, password: string): Promise<Identity> {
    const [, record] = await this.find(nickname)
    const identity = await openPrivateKey(record.sealedKey, password, this.backend)
    const clientKeys = await this.accounts.clientKeys(nickname, password)
    if (clientKeys) await this.loginUnlock.wrap(nickname, identity, clientKeys)
    return identity
  }

  /**
   * The identity's key from a Jabber login's SCRAM ClientKey (the
   * `authenticated` event), or undefined when no copy opens with it.
   */
  openAtLogin(nickname: string, clientKey: Uint8Array): Promise<Identity | undefined> {
    return this.loginUnlock.open(nickname, clientKey)
  }

  /**
   * Changes an identity's password everywhere it is used: the sealed key, the
   * XMPP account and the login copy. Backups made before stay sealed with the
   * old password.
   */
  changePassword(nickname: string, current: string, next: string): Promise<void> {
    checkPasswordLength(next)
    return this.serial(async () => {
      const [address, record] = await this.find(nickname)
      const identity = await openPrivateKey(record.sealedKey, current, this.backend)
      try {
        const sealedKey = await sealPrivateKey(identity, next, this.options.kdf, this.backend)
        await this.table.put(address, { ...record, sealedKey })
        await this.setLogin(nickname, identity, next)
      } finally {
        identity.seed.fill(0)
      }
      this.log.info({ nickname, address }, 'password changed')
    })
  }

  /** Deletes an identity and its private key; `confirmed` must say the caller meant it. */
  delete(nickname: string, { confirmed }: { confirmed: boolean }): Promise<IdentitySummary> {
    return this.serial(async () => {
      const [address, record] = await this.find(nickname)
      if (!confirmed) {
        throw new IdentityError(
          'IDENTITY_NOT_CONFIRMED',
          `deleting "${nickname}" destroys its private key for good; back it up first, then confirm`,
        )
      }
      // The XMPP account goes with the identity, in the same atomic write.
      await this.options.store.batch([
        this.table.delOp(address),
        credentialsTable(this.options.store).delOp(nickname),
        ...this.loginUnlock.delOps(nickname),
      ])
      this.log.info({ nickname, address }, 'identity deleted')
      return summary(address, record)
    })
  }

  private async add(
    nickname: string,
    identity: Identity,
    sealedKey: Uint8Array,
    password: string,
    event: string,
  ) {
    const address = encodeAddress(identity.publicKey)
    const record: IdentityRecord = { nickname, sealedKey, createdAt: this.now() }
    await this.table.put(address, record)
    await this.setLogin(nickname, identity, password)
    this.log.info({ nickname, address }, event)
    return summary(address, record)
  }

  /** The identity's password is also its XMPP password (kept as SCRAM keys only), and a login opens the key. */
  private async setLogin(nickname: string, identity: Identity, password: string): Promise<void> {
    const clientKeys = await setAccountPassword(this.options.store, nickname, password)
    await this.loginUnlock.wrap(nickname, identity, clientKeys)
  }

  private async find(nickname: string): Promise<[string, IdentityRecord]> {
    for await (const entry of this.table.entries()) if (entry[1].nickname === nickname) return entry
    throw new IdentityError('IDENTITY_NOT_FOUND', `no identity "${nickname}" here`)
  }

  private async checkNicknameFree(nickname: string): Promise<void> {
    for await (const [address, record] of this.table.entries()) {
      if (record.nickname === nickname) {
        throw new IdentityError('IDENTITY_NICKNAME_TAKEN', `nickname "${nickname}" is taken by ${address}`)
      }
    }
  }

  /** Throws WrongPasswordError unless the password opens the key. */
  private async verifyPassword(sealedKey: Uint8Array, password: string): Promise<void> {
    const identity = await openPrivateKey(sealedKey, password, this.backend)
    identity.seed.fill(0)
  }

  private serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task)
    this.queue = run.catch(() => {})
    return run
  }
}

function checkPasswordLength(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw new IdentityError(
      'IDENTITY_PASSWORD_TOO_SHORT',
      `the password needs at least ${MIN_PASSWORD_LENGTH} characters`,
    )
  }
}

function checkNickname(nickname: string): void {
  const problem = nicknameProblem(nickname)
  if (problem) throw new IdentityError('IDENTITY_NICKNAME_INVALID', `bad nickname "${nickname}": ${problem}`)
}

/** The sealed key inside a backup; throws BackupError naming what is wrong (a line, a QR part…). */
export function sealedKeyFromBackup(backup: Backup): Uint8Array {
  switch (backup.format) {
    case 'text':
      return backupFromText(backup.text)
    case 'qr':
      return backupFromQrPayloads(backup.payloads)
    case 'file':
      return backupFromFile(backup.contents)
  }
}

function summary(address: string, record: IdentityRecord): IdentitySummary {
  return { nickname: record.nickname, address, createdAt: record.createdAt }
}

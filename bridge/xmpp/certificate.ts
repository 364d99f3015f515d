import { X509Certificate } from 'node:crypto'
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { generate } from 'selfsigned'
import { ParanoimError } from '../errors.js'

export interface TlsCredentials {
  cert: string
  key: string
  /** SHA-256 fingerprint of the certificate, "AA:BB:…", for users to compare with what their client shows. */
  fingerprint: string
  /** SHA-1 fingerprint, "AA:BB:…": what Profanity (lowercase, no colons) and Pidgin show when asking to trust it. */
  fingerprintSha1: string
  /** DER bytes of the certificate: tls-server-end-point channel binding (RFC 5929 §4) hashes them. */
  der: Buffer
}

export class CertificateError extends ParanoimError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('XMPP_CERTIFICATE', message, options)
  }
}

export interface CertificateOptions {
  domain: string
  /** Configured PEM files; both or neither. */
  certFile: string
  keyFile: string
  /** Where a generated certificate is kept and reused; null keeps it in memory only (tests). */
  dataDir: string | null
}

const SELF_SIGNED_DIR = 'tls'
const VALIDITY_DAYS = 3650

/** The configured certificate, else the one generated on first start (kept in the data dir), else a new one. */
export async function loadCertificate(options: CertificateOptions): Promise<TlsCredentials> {
  if (options.certFile !== '' || options.keyFile !== '') {
    if (options.certFile === '' || options.keyFile === '') {
      throw new CertificateError('xmpp.certFile and xmpp.keyFile must be given together')
    }
    return credentials(await readPem(options.certFile), await readPem(options.keyFile))
  }
  if (options.dataDir === null) return generateSelfSigned(options.domain)
  const dir = join(options.dataDir, SELF_SIGNED_DIR)
  const certPath = join(dir, `${options.domain}.crt`)
  const keyPath = join(dir, `${options.domain}.key`)
  try {
    return credentials(await readFile(certPath, 'utf8'), await readFile(keyPath, 'utf8'))
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  const generated = await generateSelfSigned(options.domain)
  await mkdir(dir, { recursive: true, mode: 0o700 })
  await writeFile(keyPath, generated.key, { mode: 0o600 })
  await chmod(keyPath, 0o600)
  await writeFile(certPath, generated.cert, { mode: 0o644 })
  return generated
}

async function generateSelfSigned(domain: string): Promise<TlsCredentials> {
  const notBeforeDate = new Date()
  const pems = await generate([{ name: 'commonName', value: domain }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate: new Date(notBeforeDate.getTime() + VALIDITY_DAYS * 86_400_000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      // keyCertSign although not a CA: NSS (Pidgin, Finch) checks a self-signed certificate as its own
      // issuer, and without it libpurple calls the chain invalid and offers no way to accept it.
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, keyCertSign: true },
      { name: 'extKeyUsage', serverAuth: true },
      // dNSName for the domain and its wildcard (XEP-0368 and clients check the domain itself).
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: domain },
          { type: 2, value: `*.${domain}` },
          // Clients told to connect to 127.0.0.1 that check the name against that (libpurple) then match.
          { type: 7, ip: '127.0.0.1' },
          { type: 7, ip: '::1' },
        ],
      },
    ],
  })
  return credentials(pems.cert, pems.private)
}

async function readPem(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8')
  } catch (err) {
    throw new CertificateError(`cannot read ${path}: ${(err as Error).message}`, { cause: err })
  }
}

function credentials(cert: string, key: string): TlsCredentials {
  let x509: X509Certificate
  try {
    x509 = new X509Certificate(cert)
  } catch (err) {
    throw new CertificateError(`not a PEM certificate: ${(err as Error).message}`, { cause: err })
  }
  return { cert, key, fingerprint: x509.fingerprint256, fingerprintSha1: x509.fingerprint, der: x509.raw }
}

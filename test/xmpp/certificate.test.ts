import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { CertificateError, loadCertificate } from '../../bridge/xmpp/certificate.js'

test('a self-signed certificate is made on first start, kept (key 0600) and reused', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'paranoim-cert-'))
  const options = { domain: 'example.localhost', certFile: '', keyFile: '', dataDir }
  const first = await loadCertificate(options)
  const again = await loadCertificate(options)
  assert.equal(again.fingerprint, first.fingerprint)
  assert.match(first.fingerprint, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/)
  assert.equal((await stat(join(dataDir, 'tls', 'example.localhost.key'))).mode & 0o777, 0o600)
  const { X509Certificate } = await import('node:crypto')
  assert.ok(new X509Certificate(first.cert).checkHost('example.localhost'))

  const configured = await loadCertificate({
    domain: 'other.localhost',
    certFile: join(dataDir, 'tls', 'example.localhost.crt'),
    keyFile: join(dataDir, 'tls', 'example.localhost.key'),
    dataDir: null,
  })
  assert.equal(configured.fingerprint, first.fingerprint)
  assert.equal(configured.key, await readFile(join(dataDir, 'tls', 'example.localhost.key'), 'utf8'))
  await rm(dataDir, { recursive: true, force: true })
})

test('a half-configured or unreadable certificate is a clear error', async () => {
  await assert.rejects(
    loadCertificate({ domain: 'x.localhost', certFile: '/nonexistent.crt', keyFile: '', dataDir: null }),
    (err) => err instanceof CertificateError && /together/.test(err.message),
  )
  await assert.rejects(
    loadCertificate({
      domain: 'x.localhost',
      certFile: '/nonexistent.crt',
      keyFile: '/nonexistent.key',
      dataDir: null,
    }),
    (err) => err instanceof CertificateError && /nonexistent\.crt/.test(err.message),
  )
})

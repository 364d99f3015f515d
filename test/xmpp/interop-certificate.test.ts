import assert from 'node:assert/strict'
import { createHash, X509Certificate } from 'node:crypto'
import { before, test } from 'node:test'
import { loadCertificate, type TlsCredentials } from '../../bridge/xmpp/certificate.js'

let tls: TlsCredentials
before(async () => {
  tls = await loadCertificate({ domain: 'paranoim.localhost', certFile: '', keyFile: '', dataDir: null })
})

/** The keyUsage bits (RFC 5280 §4.2.1.3) of a DER certificate: the BIT STRING after OID 2.5.29.15. */
function keyUsageBits(der: Buffer): number {
  const oid = der.indexOf(Buffer.from([0x06, 0x03, 0x55, 0x1d, 0x0f]))
  assert.ok(oid > 0, 'a keyUsage extension')
  const bitString = der.indexOf(Buffer.from([0x03, 0x02]), oid)
  return der[bitString + 3]!
}

// Finch 2.14 (libpurple, NSS) refused the first generated certificate outright, with no way to accept it:
// NSS checks a self-signed certificate as its own issuer, found no keyCertSign (SEC_ERROR_INADEQUATE_KEY_USAGE),
// and libpurple calls that an invalid chain. It also checked the name against the connect server 127.0.0.1.
test('the self-signed certificate is acceptable to NSS clients connecting to 127.0.0.1', () => {
  const DIGITAL_SIGNATURE = 0x80
  const KEY_CERT_SIGN = 0x04
  assert.equal(keyUsageBits(tls.der) & (DIGITAL_SIGNATURE | KEY_CERT_SIGN), DIGITAL_SIGNATURE | KEY_CERT_SIGN)
  const x509 = new X509Certificate(tls.cert)
  assert.equal(x509.checkIP('127.0.0.1'), '127.0.0.1')
  assert.equal(x509.checkIP('::1'), '::1')
  assert.equal(x509.checkHost('paranoim.localhost'), 'paranoim.localhost')
  assert.equal(x509.ca, false, 'still not a CA')
})

// Profanity 0.13 and Pidgin 2 show the certificate's SHA-1 when asking the user to trust it
// (Profanity: "Fingerprint : 1a8c66fb…", lowercase without colons), so the bridge must show it too.
test('the certificate offers the SHA-1 fingerprint that Profanity and Pidgin display', () => {
  assert.match(tls.fingerprintSha1, /^([0-9A-F]{2}:){19}[0-9A-F]{2}$/)
  const profanityShows = createHash('sha1').update(tls.der).digest('hex')
  assert.equal(tls.fingerprintSha1.replaceAll(':', '').toLowerCase(), profanityShows)
  const sha256 = createHash('sha256').update(tls.der).digest('hex')
  assert.equal(tls.fingerprint.replaceAll(':', '').toLowerCase(), sha256)
})

import assert from 'node:assert/strict'
import { test } from 'node:test'
import { SaslError } from '../../bridge/xmpp/sasl/errors.js'
import { deriveScramKeys, type ScramHash, ScramServer } from '../../bridge/xmpp/sasl/scram.js'

// RFC 5802 §5 (SCRAM-SHA-1) and RFC 7677 §3 (SCRAM-SHA-256): user "user", password "pencil".
const VECTORS = [
  {
    hash: 'SHA-1' as ScramHash,
    clientFirst: 'n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL',
    serverNonce: '3rfcNHYJY1ZVvWVs7j',
    serverFirst: 'r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096',
    clientFinal: 'c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=',
    serverFinal: 'v=rmF9pqV8S7suAoZWja4dJRkFsKQ=',
  },
  {
    hash: 'SHA-256' as ScramHash,
    clientFirst: 'n,,n=user,r=rOprNGfwEbeRWgbNEkqO',
    serverNonce: '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0',
    serverFirst: 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
    clientFinal:
      'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
    serverFinal: 'v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=',
  },
]

function serverFor(vector: (typeof VECTORS)[number], options: { plus?: boolean; bindings?: boolean } = {}) {
  const salt = Buffer.from(/s=([^,]+)/.exec(vector.serverFirst)![1]!, 'base64')
  const { clientKey: _, ...credential } = deriveScramKeys(vector.hash, 'pencil', salt, 4096)
  return new ScramServer({
    hash: vector.hash,
    plus: options.plus ?? false,
    bindings: options.bindings ? { types: ['tls-exporter'], data: () => Buffer.alloc(32, 7) } : null,
    lookup: async (username) => (username === 'user' ? credential : undefined),
    decoySalt: () => Buffer.alloc(16, 1),
    decoyIterations: 4096,
    nonce: () => vector.serverNonce,
  })
}

const rejects = (condition: string) => (err: unknown) =>
  err instanceof SaslError && err.condition === condition

for (const vector of VECTORS) {
  test(`SCRAM-${vector.hash}: the RFC exchange verbatim, and ClientKey recovered`, async () => {
    const server = serverFor(vector)
    assert.equal(await server.start(vector.clientFirst), vector.serverFirst)
    const result = server.finish(vector.clientFinal)
    assert.equal(result.serverFinal, vector.serverFinal)
    assert.equal(result.username, 'user')
    const salt = Buffer.from(/s=([^,]+)/.exec(vector.serverFirst)![1]!, 'base64')
    assert.deepEqual(
      Buffer.from(result.clientKey),
      deriveScramKeys(vector.hash, 'pencil', salt, 4096).clientKey,
    )
  })

  test(`SCRAM-${vector.hash}: a wrong proof, nonce or binding is refused`, async () => {
    const wrongProof = serverFor(vector)
    await wrongProof.start(vector.clientFirst)
    const tampered = vector.clientFinal.replace(/p=./, (m) => (m.endsWith('A') ? 'p=B' : 'p=A'))
    assert.throws(() => wrongProof.finish(tampered), rejects('not-authorized'))

    const wrongNonce = serverFor(vector)
    await wrongNonce.start(vector.clientFirst)
    assert.throws(() => wrongNonce.finish(vector.clientFinal.replace('r=', 'r=x')), rejects('not-authorized'))

    const wrongBinding = serverFor(vector)
    await wrongBinding.start(vector.clientFirst)
    assert.throws(
      () => wrongBinding.finish(vector.clientFinal.replace('c=biws', 'c=eSws')),
      rejects('not-authorized'),
    )
  })
}

test('an unknown user gets a decoy salt and fails only at the proof', async () => {
  const server = serverFor(VECTORS[1]!)
  const first = await server.start('n,,n=nobody,r=abc')
  assert.match(first, /^r=abc.+,s=AQEBAQEBAQEBAQEBAQEBAQ==,i=4096$/)
  assert.throws(
    () => server.finish(`c=biws,r=${/r=([^,]+)/.exec(first)![1]},p=AAAA`),
    rejects('not-authorized'),
  )
})

test('channel binding flags: downgrade, -PLUS without binding, binding on a plain mechanism', async () => {
  const vector = VECTORS[1]!
  await assert.rejects(
    serverFor(vector, { bindings: true }).start('y,,n=user,r=abc'),
    rejects('not-authorized'),
  )
  await serverFor(vector, { bindings: false }).start('y,,n=user,r=abc') // 'y' is fine when we offer none
  await assert.rejects(
    serverFor(vector, { plus: true, bindings: true }).start('n,,n=user,r=abc'),
    rejects('malformed-request'),
  )
  await assert.rejects(
    serverFor(vector, { bindings: true }).start('p=tls-exporter,,n=user,r=abc'),
    rejects('malformed-request'),
  )
  await assert.rejects(
    serverFor(vector, { plus: true, bindings: true }).start('p=tls-unique,,n=user,r=abc'),
    rejects('malformed-request'),
  )
})

test('malformed client messages are malformed-request, never a crash', async () => {
  for (const bad of [
    '',
    'n',
    'n,,',
    'n,,n=user',
    'n,,r=abc',
    'n,,n=us=er,r=abc',
    'n,,m=x,n=user,r=abc',
    'q,,n=u,r=a',
  ]) {
    await assert.rejects(serverFor(VECTORS[1]!).start(bad), rejects('malformed-request'), bad)
  }
  const server = serverFor(VECTORS[1]!)
  await server.start(VECTORS[1]!.clientFirst)
  for (const bad of ['', 'c=biws', 'garbage,p=x', 'c=biws,r']) {
    assert.throws(
      () => server.finish(bad),
      (err) => err instanceof SaslError,
      bad,
    )
  }
})

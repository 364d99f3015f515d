import assert from 'node:assert/strict'
import { connect } from 'node:net'
import { after, before, test } from 'node:test'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import fc from 'fast-check'
import { StreamError } from '../../bridge/xmpp/errors.js'
import { StreamParser } from '../../bridge/xmpp/stream-parser.js'
import { startServer, type TestServer } from './harness.js'
import { RawClient } from './raw-client.js'

const HEADER = `<?xml version='1.0'?><stream:stream to='paranoim.localhost' version='1.0' xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>`
const PIECES = [
  HEADER,
  `<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>`,
  `<message to='alice@paranoim.localhost' type='chat'><body>hi</body></message>`,
  `<iq type='get' id='1'><ping xmlns='urn:xmpp:ping'/></iq>`,
  `<presence/>`,
  `<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>`,
  `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>AGFsaWNlAHg=</auth>`,
  `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='SCRAM-SHA-256'>biwsbj1hbGljZSxyPWFiYw==</auth>`,
  `<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>=</response>`,
  `<!DOCTYPE x [<!ENTITY a "aaaa">]>`,
  `<!-- c -->`,
  `<?pi x?>`,
  `<![CDATA[x]]>`,
  `&a;`,
  `&#0;`,
  `&#x1F600;`,
  `</stream:stream>`,
  `<a b='1' b='2'>`,
  `<a b=c>`,
  `<a:b:c/>`,
  `<>`,
  `</>`,
  `<a><b><c><d><e><f>`,
  `'"<>&`,
  '\u0000\uFFFF\uD800',
  ' \n\t',
]

/** Deterministic PRNG (mulberry32), so a failure can be replayed from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** A malformed stream: valid and hostile pieces glued together, then bytes flipped, inserted and removed. */
function malformedStream(seed: number): Buffer[] {
  const random = prng(seed)
  const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)]!
  const parts = Array.from({ length: 1 + Math.floor(random() * 8) }, () => pick(PIECES))
  if (random() < 0.7) parts.unshift(HEADER)
  const bytes = [...Buffer.from(parts.join(''))]
  for (let i = Math.floor(random() * 6); i > 0; i--) {
    const at = Math.floor(random() * (bytes.length + 1))
    const op = random()
    if (op < 0.33) bytes.splice(at, 1)
    else if (op < 0.66) bytes.splice(at, 0, Math.floor(random() * 256))
    else bytes[at] = Math.floor(random() * 256)
  }
  const chunks: Buffer[] = []
  for (let start = 0; start < bytes.length; ) {
    const size = 1 + Math.floor(random() * 64)
    chunks.push(Buffer.from(bytes.slice(start, start + size)))
    start += size
  }
  return chunks
}

test('the stream parser only ever throws StreamError on arbitrary bytes (5,000 cases)', () => {
  const limits = { maxStanzaBytes: 4096, maxDepth: 16 }
  fc.assert(
    fc.property(
      fc.array(fc.oneof(fc.constantFrom(...PIECES), fc.string(), fc.uint8Array({ maxLength: 64 })), {
        maxLength: 12,
      }),
      (pieces) => {
        const parser = new StreamParser(limits, { onStreamStart() {}, onElement() {}, onStreamEnd() {} })
        try {
          for (const piece of pieces)
            parser.write(typeof piece === 'string' ? Buffer.from(piece) : Buffer.from(piece))
        } catch (err) {
          if (!(err instanceof StreamError)) throw err
        }
      },
    ),
    { numRuns: 5000, seed: 42 },
  )
})

let t: TestServer
before(async () => {
  t = await startServer({ accounts: ['alice'], limits: { maxStanzaBytes: 8192, negotiationTimeoutMs: 3000 } })
})
after(() => t.stop())

/** Feeds one malformed stream; resolves once the server has closed it (or we close it after a pause). */
function feed(port: number, chunks: Buffer[]): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' })
    socket.on('error', () => {})
    socket.on('data', () => {})
    const giveUp = setTimeout(() => socket.destroy(), 3000)
    socket.once('close', () => {
      clearTimeout(giveUp)
      resolve()
    })
    socket.once('connect', () => {
      for (const chunk of chunks) socket.write(chunk)
      // A stream that is merely incomplete stays open; end our side and let the server finish.
      setTimeout(() => socket.end(), 50)
    })
  })
}

function heapAfterGc(): number {
  setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc') as () => void
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

test('3,000 malformed streams against the server: no crash, no hang, memory bounded, others unaffected', async () => {
  const witness = await RawClient.connect(t.starttlsPort)
  await witness.login(t.cert, 'alice', 'witness')
  const heapBefore = heapAfterGc()
  const started = Date.now()
  const total = 3000
  const concurrency = 16
  let next = 0
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) await feed(t.starttlsPort, malformedStream(next++))
    }),
  )
  const elapsed = Date.now() - started
  assert.ok(elapsed < 45_000, `took ${elapsed} ms`)
  witness.send(`<iq type='get' id='alive' to='paranoim.localhost'><ping xmlns='urn:xmpp:ping'/></iq>`)
  assert.equal((await witness.next((el) => el.attrs.id === 'alive')).attrs.type, 'result')
  await new Promise((r) => setTimeout(r, 200))
  const grown = heapAfterGc() - heapBefore
  assert.ok(grown < 32 * 1024 * 1024, `heap grew by ${Math.round(grown / 1024)} KiB`)
  witness.close()
})

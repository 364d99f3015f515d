import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { identityFromSeed } from '../../bridge/crypto/identity.js'
import { ENVELOPE_PROTOCOL_NAME, openEnvelope } from '../../bridge/messaging/envelope-noise.js'
import { prekeyId } from '../../bridge/messaging/prekeys.js'
import { decodeEnvelope, encodeEnvelopeBody, MAX_FRAME_BYTES } from '../../bridge/wire/envelope.js'
import { backends, hex, toHex } from '../crypto/helpers.js'
import { scripted, sealerOf, utf8 } from './envelope-helpers.js'

/**
 * The vectors of docs/protocol.md "End-to-end envelopes" → "Vectors" live twice,
 * in the document and in test/fixtures/envelope-vectors.json; both must agree
 * and the code must reproduce every byte, through the real EnvelopeSealer.
 */
const root = new URL('../../', import.meta.url)
const v = JSON.parse(readFileSync(new URL('test/fixtures/envelope-vectors.json', root), 'utf8'))
const protocol = readFileSync(new URL('docs/protocol.md', root), 'utf8')

function leaves(value: unknown): string[] {
  if (typeof value === 'string' || typeof value === 'number') return [String(value)]
  if (typeof value === 'object' && value !== null) return Object.values(value).flatMap(leaves)
  return []
}

/** The section, with hex blocks wrapped over several lines joined up again. */
function section(): string {
  const start = protocol.indexOf('\n## End-to-end envelopes\n')
  assert.ok(start >= 0, 'docs/protocol.md lacks "## End-to-end envelopes"')
  const end = protocol.indexOf('\n## ', start + 1)
  return protocol.slice(start, end < 0 ? undefined : end).replace(/\s+/g, '')
}

describe('docs/protocol.md and test/fixtures/envelope-vectors.json', () => {
  it('the section holds every fixture value verbatim', () => {
    const text = section()
    for (const value of leaves(v)) assert.ok(text.includes(value), `the envelope section lacks ${value}`)
  })

  it('the section states the protocol name and the frame limit the code uses', () => {
    assert.ok(protocol.includes(`\`${ENVELOPE_PROTOCOL_NAME}\``))
    assert.equal(new TextEncoder().encode(ENVELOPE_PROTOCOL_NAME).length, 32)
    assert.ok(protocol.includes(`a frame is at most **${MAX_FRAME_BYTES} bytes**`))
  })
})

for (const backend of backends) {
  describe(`envelope vectors (${backend.name})`, () => {
    const sender = identityFromSeed(hex(v.senderSeed), backend)
    const recipient = identityFromSeed(hex(v.recipientSeed), backend)
    // Both bridges make their prekeys at this time, so they are valid until v.validUntil.
    const now = () => v.validUntil - 24 * 3600 * 1000
    const frame = hex(v.frame)

    it('keys, prekey id and body', () => {
      assert.equal(toHex(sender.publicKey), v.senderAddress)
      assert.equal(toHex(recipient.publicKey), v.recipientAddress)
      assert.equal(toHex(recipient.x25519PublicKey), v.recipientX25519)
      assert.equal(toHex(backend.x25519PublicKey(hex(v.ephemeralPrivate))), v.ephemeralPublic)
      const recipientPrekey = backend.x25519PublicKey(hex(v.recipientPrekeyPrivate))
      assert.equal(toHex(recipientPrekey), v.recipientPrekeyPublic)
      assert.equal(toHex(prekeyId(backend, recipientPrekey)), v.recipientPrekeyId)
      const senderPrekey = backend.x25519PublicKey(hex(v.senderPrekeyPrivate))
      assert.equal(toHex(senderPrekey), v.senderPrekeyPublic)
      const body = encodeEnvelopeBody({ prekey: senderPrekey, prekeyValidUntil: v.validUntil, frame })
      assert.equal(toHex(body.subarray(0, 61)), v.body)
      assert.ok(body.subarray(61).every((b) => b === 0))
    })

    it('without a prekey: the first envelope to a new contact', async () => {
      const alice = await sealerOf({
        now,
        backend,
        random: scripted([hex(v.senderPrekeyPrivate), hex(v.ephemeralPrivate)], backend),
      })
      const envelope = await alice.sealer.seal(sender, recipient.publicKey, frame)
      assert.equal(toHex(envelope.subarray(0, 96)), v.withoutPrekey.envelopeHead)
      assert.equal(toHex(backend.sha256(envelope)), v.withoutPrekey.envelopeSha256)
      const opened = openEnvelope(backend, recipient, decodeEnvelope(envelope), () => undefined)
      assert.equal(toHex(opened.handshakeHash), v.withoutPrekey.handshakeHash)
    })

    it("with the recipient's prekey, learnt from its first envelope; the recipient opens it", async () => {
      const bob = await sealerOf({ now, backend, random: scripted([hex(v.recipientPrekeyPrivate)], backend) })
      const alice = await sealerOf({
        now,
        backend,
        random: scripted([hex(v.senderPrekeyPrivate), hex(v.ephemeralPrivate)], backend),
      })
      await alice.sealer.open(sender, await bob.sealer.seal(recipient, sender.publicKey, utf8('hi')))
      const envelope = await alice.sealer.seal(sender, recipient.publicKey, frame)
      assert.equal(toHex(envelope), v.withPrekey.envelope)
      const opened = openEnvelope(backend, recipient, decodeEnvelope(envelope), () =>
        hex(v.recipientPrekeyPrivate),
      )
      assert.equal(toHex(opened.prekeyId), v.recipientPrekeyId)
      assert.equal(toHex(opened.handshakeHash), v.withPrekey.handshakeHash)
      assert.deepEqual(await bob.sealer.open(recipient, envelope), { from: sender.publicKey, frame })
    })
  })
}

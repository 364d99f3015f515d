import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { z } from 'zod'
import { DOMAIN } from '../../bridge/crypto/domains.js'
import { AeadError } from '../../bridge/crypto/errors.js'
import {
  generateIdentity,
  type Identity,
  identityFromSeed,
  x25519FromEd25519PublicKey,
} from '../../bridge/crypto/identity.js'
import { nativeBackend } from '../../bridge/crypto/native.js'
import { nobleBackend } from '../../bridge/crypto/noble.js'
import { ENVELOPE_LENGTH, MAX_FRAME_BYTES } from '../../bridge/messaging/envelope.js'
import { ENVELOPE_PROTOCOL_NAME, openEnvelope, sealEnvelope } from '../../bridge/messaging/envelope-noise.js'
import { EnvelopeError } from '../../bridge/messaging/errors.js'
import { MAX_PEER_PREKEY_MS, PREKEY_MARGIN_MS, Prekeys, prekeyId } from '../../bridge/messaging/prekeys.js'
import { decryptAndHash, initializeSymmetric, mixHash, mixKey } from '../../bridge/net/noise-symmetric.js'
import { jsonCodec, openMemoryStore, openStore, type Store } from '../../bridge/store/index.js'
import {
  BODY_LENGTH,
  decodeEnvelope,
  decodeEnvelopeBody,
  ENVELOPE_VERSION,
  EnvelopeWireError,
  encodeEnvelope,
  encodeEnvelopeBody,
} from '../../bridge/wire/envelope.js'
import { clock, config, envelopeError, HOUR, MINUTE, scripted, sealerOf, utf8 } from './envelope-helpers.js'

const contains = (haystack: Uint8Array, needle: Uint8Array) =>
  Buffer.from(haystack).indexOf(Buffer.from(needle)) !== -1

/** Raw records of the own-prekey table, as the sealer stored them. */
async function storedPrekeys(store: Store): Promise<Uint8Array[]> {
  const raw = store.table('msg-prekeys', { encode: (v: Uint8Array) => v, decode: (b) => b })
  const out: Uint8Array[] = []
  for await (const [, bytes] of raw.entries()) out.push(bytes)
  return out
}

/** What someone holding only the recipient's static key would try: the pattern without `ep`. */
function openSkippingPrekey(to: Identity, envelope: Uint8Array): Uint8Array {
  const b = nativeBackend
  const { ephemeral, sealedSender, sealedBody } = decodeEnvelope(envelope)
  const prologue = new Uint8Array([...utf8(DOMAIN.envelopePrologue), ENVELOPE_VERSION, ...to.publicKey])
  const state = initializeSymmetric(b, ENVELOPE_PROTOCOL_NAME, prologue)
  mixHash(b, state, to.x25519PublicKey)
  mixHash(b, state, ephemeral)
  mixKey(b, state, b.x25519(to.x25519PrivateKey, ephemeral))
  const sender = decryptAndHash(b, state, sealedSender).subarray(0, 32)
  mixKey(b, state, b.x25519(to.x25519PrivateKey, x25519FromEd25519PublicKey(sender)))
  return decryptAndHash(b, state, sealedBody)
}

/** Alice and Bob on two bridges (two stores), one clock. */
async function pair() {
  const time = clock()
  const alice = { id: generateIdentity(), ...(await sealerOf({ now: time.now })) }
  const bob = { id: generateIdentity(), ...(await sealerOf({ now: time.now })) }
  return { time, alice, bob }
}

/** Whether `envelope` mixed in a prekey of `to`: a bridge that holds none of its prekeys cannot open it. */
async function usesPrekey(to: Identity, envelope: Uint8Array): Promise<boolean> {
  const { sealer } = await sealerOf({ now: () => 0 })
  try {
    await sealer.open(to, envelope)
    return false
  } catch (err) {
    if (envelopeError('PREKEY_UNKNOWN')(err)) return true
    throw err
  }
}

describe('envelopes: round trips', () => {
  it('first contact: no prekey yet, still opened by the recipient, who learns the sender', async () => {
    const { alice, bob } = await pair()
    const envelope = await alice.sealer.seal(alice.id, bob.id.publicKey, utf8('hello'))
    assert.equal(envelope.length, ENVELOPE_LENGTH)
    const opened = await bob.sealer.open(bob.id, envelope)
    assert.deepEqual(opened.from, alice.id.publicKey)
    assert.deepEqual(opened.frame, utf8('hello'))
    assert.equal(await usesPrekey(bob.id, envelope), false)
  })

  it('after one envelope each way, both directions mix in the peer prekey', async () => {
    const { alice, bob } = await pair()
    await bob.sealer.open(bob.id, await alice.sealer.seal(alice.id, bob.id.publicKey, utf8('1')))
    const reply = await bob.sealer.seal(bob.id, alice.id.publicKey, utf8('2'))
    assert.equal(await usesPrekey(alice.id, reply), true)
    assert.deepEqual((await alice.sealer.open(alice.id, reply)).frame, utf8('2'))
    const third = await alice.sealer.seal(alice.id, bob.id.publicKey, utf8('3'))
    assert.equal(await usesPrekey(bob.id, third), true)
    assert.deepEqual(await bob.sealer.open(bob.id, third), { from: alice.id.publicKey, frame: utf8('3') })
  })

  it('frames of 0 and MAX_FRAME_BYTES bytes; one more is FRAME_TOO_LARGE', async () => {
    const { alice, bob } = await pair()
    for (const size of [0, 1, MAX_FRAME_BYTES]) {
      const frame = nativeBackend.randomBytes(size)
      const envelope = await alice.sealer.seal(alice.id, bob.id.publicKey, frame)
      assert.equal(envelope.length, ENVELOPE_LENGTH)
      assert.deepEqual((await bob.sealer.open(bob.id, envelope)).frame, frame)
    }
    await assert.rejects(
      alice.sealer.seal(alice.id, bob.id.publicKey, new Uint8Array(MAX_FRAME_BYTES + 1)),
      envelopeError('FRAME_TOO_LARGE'),
    )
  })

  it('a message to oneself works (same identity both ends)', async () => {
    const { alice } = await pair()
    const envelope = await alice.sealer.seal(alice.id, alice.id.publicKey, utf8('note'))
    assert.deepEqual(await alice.sealer.open(alice.id, envelope), {
      from: alice.id.publicKey,
      frame: utf8('note'),
    })
  })

  it('concurrent first seals make one prekey, not one each', async () => {
    const { alice, bob } = await pair()
    await Promise.all(
      Array.from({ length: 5 }, () => alice.sealer.seal(alice.id, bob.id.publicKey, utf8('x'))),
    )
    assert.equal((await storedPrekeys(alice.store)).length, 1)
  })
})

describe('envelopes: what others see and cannot do', () => {
  it('the bytes show neither address nor X25519 key of either side', async () => {
    const { alice, bob } = await pair()
    const envelope = await alice.sealer.seal(alice.id, bob.id.publicKey, utf8('hello'))
    for (const key of [
      alice.id.publicKey,
      alice.id.x25519PublicKey,
      bob.id.publicKey,
      bob.id.x25519PublicKey,
    ])
      assert.equal(contains(envelope, key), false)
  })

  it('changing any byte makes it MALFORMED (version) or AUTH, in both modes', async () => {
    const { alice, bob } = await pair()
    const first = await alice.sealer.seal(alice.id, bob.id.publicKey, utf8('first'))
    await bob.sealer.open(bob.id, first)
    const second = await bob.sealer.seal(bob.id, alice.id.publicKey, utf8('second'))
    for (const [to, sealer, envelope] of [
      [bob.id, bob.sealer, first],
      [alice.id, alice.sealer, second],
    ] as const) {
      for (let i = 0; i < envelope.length; i++) {
        const bad = envelope.slice()
        bad[i]! ^= 1 << (i % 8)
        await assert.rejects(
          sealer.open(to, bad),
          envelopeError(i === 0 ? 'ENVELOPE_MALFORMED' : 'ENVELOPE_AUTH'),
          `byte ${i}`,
        )
      }
      await sealer.open(to, envelope) // the original still opens
    }
  })

  it('another identity cannot open it (AUTH)', async () => {
    const { alice, bob } = await pair()
    const envelope = await alice.sealer.seal(alice.id, bob.id.publicKey, utf8('for bob'))
    await assert.rejects(alice.sealer.open(generateIdentity(), envelope), envelopeError('ENVELOPE_AUTH'))
    await assert.rejects(alice.sealer.open(alice.id, envelope), envelopeError('ENVELOPE_AUTH'))
  })

  it('naming another sender without its key fails ss (AUTH)', async () => {
    const { alice, bob } = await pair()
    const mallory = generateIdentity()
    const posingAsAlice: Identity = { ...mallory, publicKey: alice.id.publicKey }
    const parts = sealEnvelope(nativeBackend, {
      sender: posingAsAlice,
      recipient: bob.id.publicKey,
      recipientStatic: bob.id.x25519PublicKey,
      ephemeralPrivate: nativeBackend.randomBytes(32),
      recipientPrekey: undefined,
      body: encodeEnvelopeBody({ prekey: mallory.x25519PublicKey, prekeyValidUntil: 0, frame: utf8('hi') }),
    })
    await assert.rejects(bob.sealer.open(bob.id, encodeEnvelope(parts)), envelopeError('ENVELOPE_AUTH'))
  })

  it('an authentic sender announcing a low-order prekey is refused (SENDER)', async () => {
    const { time, alice, bob } = await pair()
    const parts = sealEnvelope(nativeBackend, {
      sender: alice.id,
      recipient: bob.id.publicKey,
      recipientStatic: bob.id.x25519PublicKey,
      ephemeralPrivate: nativeBackend.randomBytes(32),
      recipientPrekey: undefined,
      body: encodeEnvelopeBody({
        prekey: new Uint8Array(32),
        prekeyValidUntil: time.now() + HOUR,
        frame: utf8(''),
      }),
    })
    await assert.rejects(bob.sealer.open(bob.id, encodeEnvelope(parts)), envelopeError('ENVELOPE_SENDER'))
  })

  it('a recipient that is no Ed25519 key, or a low-order one, is RECIPIENT_INVALID', async () => {
    const { alice } = await pair()
    const notAPoint = new Uint8Array(32).fill(0xff)
    notAPoint[31] = 0x7f
    const identityPoint = new Uint8Array(32)
    identityPoint[0] = 1
    for (const to of [notAPoint, identityPoint, new Uint8Array(31)])
      await assert.rejects(alice.sealer.seal(alice.id, to, utf8('x')), envelopeError('RECIPIENT_INVALID'))
  })

  it('any bytes at all give an EnvelopeError, never another error (property)', async () => {
    const { alice, bob } = await pair()
    const valid = await alice.sealer.seal(alice.id, bob.id.publicKey, utf8('valid'))
    const inputs = fc.oneof(
      fc.uint8Array({ maxLength: 1200 }),
      fc.uint8Array({ minLength: ENVELOPE_LENGTH - 1, maxLength: ENVELOPE_LENGTH - 1 }).map((b) => {
        const out = new Uint8Array(ENVELOPE_LENGTH)
        out[0] = 1
        out.set(b, 1)
        return out
      }),
      // Truncated or extended copies of a valid envelope (not the envelope itself).
      fc
        .integer({ min: 0, max: ENVELOPE_LENGTH + 64 })
        .filter((n) => n !== ENVELOPE_LENGTH)
        .map((n) => {
          const out = new Uint8Array(n)
          out.set(valid.subarray(0, n))
          return out
        }),
    )
    await fc.assert(
      fc.asyncProperty(inputs, async (bytes) => {
        const error = await bob.sealer.open(bob.id, bytes).then(
          () => undefined,
          (e: unknown) => e,
        )
        assert.ok(error instanceof EnvelopeError, `got ${String(error)}`)
        assert.ok(['ENVELOPE_MALFORMED', 'ENVELOPE_AUTH'].includes(error.code), error.code)
      }),
      { numRuns: 300 },
    )
  })
})

describe('envelopes: prekeys and forward secrecy', () => {
  it('once the prekey is past its lifetime, its envelope no longer opens and its private half is gone', async () => {
    const { time, alice, bob } = await pair()
    await bob.sealer.open(bob.id, await alice.sealer.seal(alice.id, bob.id.publicKey, utf8('hi')))
    const reply = await bob.sealer.seal(bob.id, alice.id.publicKey, utf8('forward secret'))
    const [record] = await storedPrekeys(alice.store)
    const privateKey = jsonCodec(z.object({ privateKey: z.instanceof(Uint8Array) })).decode(
      record!,
    ).privateKey
    time.advance(config.prekeyLifetimeMs + config.prekeyRotationMs)
    await alice.sealer.expire()
    for (const stored of await storedPrekeys(alice.store))
      assert.equal(contains(stored, utf8(Buffer.from(privateKey).toString('base64'))), false)
    assert.equal((await storedPrekeys(alice.store)).length, 0)
    await assert.rejects(alice.sealer.open(alice.id, reply), (err: unknown) => {
      assert.ok(envelopeError('PREKEY_UNKNOWN')(err))
      assert.deepEqual((err as EnvelopeError).claimedSender, bob.id.publicKey)
      return true
    })
    // Alice's static key alone does not open it: not with a guessed prekey, not skipping `ep`.
    assert.throws(
      () => openEnvelope(nativeBackend, alice.id, decodeEnvelope(reply), () => nativeBackend.randomBytes(32)),
      envelopeError('ENVELOPE_AUTH'),
    )
    assert.throws(() => openSkippingPrekey(alice.id, reply), AeadError)
  })

  it('expired prekeys are also dropped without expire(), when the identity is next used', async () => {
    const { time, alice, bob } = await pair()
    await bob.sealer.open(bob.id, await alice.sealer.seal(alice.id, bob.id.publicKey, utf8('hi')))
    const reply = await bob.sealer.seal(bob.id, alice.id.publicKey, utf8('later'))
    time.advance(config.prekeyLifetimeMs)
    await assert.rejects(alice.sealer.open(alice.id, reply), envelopeError('PREKEY_UNKNOWN'))
    assert.equal((await storedPrekeys(alice.store)).length, 0)
  })

  it('rotation: a new prekey is announced, envelopes to the old one open until its lifetime ends', async () => {
    const { time, alice, bob } = await pair()
    await bob.sealer.open(bob.id, await alice.sealer.seal(alice.id, bob.id.publicKey, utf8('1')))
    const toOld = await bob.sealer.seal(bob.id, alice.id.publicKey, utf8('to old'))
    time.advance(config.prekeyRotationMs)
    await bob.sealer.open(bob.id, await alice.sealer.seal(alice.id, bob.id.publicKey, utf8('2')))
    assert.equal((await storedPrekeys(alice.store)).length, 2)
    const toNew = await bob.sealer.seal(bob.id, alice.id.publicKey, utf8('to new'))
    assert.deepEqual((await alice.sealer.open(alice.id, toOld)).frame, utf8('to old'))
    assert.deepEqual((await alice.sealer.open(alice.id, toNew)).frame, utf8('to new'))
    time.advance(config.prekeyLifetimeMs - config.prekeyRotationMs)
    await assert.rejects(alice.sealer.open(alice.id, toOld), envelopeError('PREKEY_UNKNOWN'))
  })

  it('a peer prekey with PREKEY_MARGIN_MS or less to live is not used', async () => {
    const { time, alice, bob } = await pair()
    await bob.sealer.open(bob.id, await alice.sealer.seal(alice.id, bob.id.publicKey, utf8('1')))
    // Alice stays silent; her prekey nears the end of its life.
    time.advance(config.prekeyLifetimeMs - PREKEY_MARGIN_MS - MINUTE)
    assert.equal(
      await usesPrekey(alice.id, await bob.sealer.seal(bob.id, alice.id.publicKey, utf8('2'))),
      true,
    )
    time.advance(MINUTE)
    const late = await bob.sealer.seal(bob.id, alice.id.publicKey, utf8('3'))
    assert.equal(await usesPrekey(alice.id, late), false)
    assert.deepEqual((await alice.sealer.open(alice.id, late)).frame, utf8('3'))
  })

  it('an older prekey arriving late does not replace a newer one; valid-until is capped', async () => {
    const store = await openMemoryStore()
    const time = clock()
    const prekeys = new Prekeys({
      store,
      config,
      backend: nativeBackend,
      now: time.now,
      random: nativeBackend.randomBytes,
    })
    const [owner, peer] = [generateIdentity().publicKey, generateIdentity().publicKey]
    const [older, newer] = [generateIdentity().x25519PublicKey, generateIdentity().x25519PublicKey]
    await prekeys.learn(owner, peer, newer, time.now() + 2 * HOUR)
    await prekeys.learn(owner, peer, older, time.now() + HOUR)
    assert.deepEqual((await prekeys.peer(owner, peer))?.publicKey, newer)
    await prekeys.learn(owner, peer, older, Number.MAX_SAFE_INTEGER)
    assert.deepEqual(await prekeys.peer(owner, peer), {
      id: prekeyId(nativeBackend, older),
      publicKey: older,
      validUntil: time.now() + MAX_PEER_PREKEY_MS,
    })
  })

  it('prekeys survive a restart (LevelDB in a directory)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'paranoim-envelope-'))
    try {
      const time = clock()
      const alice = generateIdentity()
      const bob = { id: generateIdentity(), ...(await sealerOf({ now: time.now })) }
      let store = await openStore({ dataDir: dir })
      let { sealer } = await sealerOf({ now: time.now, store })
      await bob.sealer.open(bob.id, await sealer.seal(alice, bob.id.publicKey, utf8('1')))
      await sealer.open(alice, await bob.sealer.seal(bob.id, alice.publicKey, utf8('2')))
      const reply = await bob.sealer.seal(bob.id, alice.publicKey, utf8('3'))
      await store.close()
      store = await openStore({ dataDir: dir })
      sealer = (await sealerOf({ now: time.now, store })).sealer
      assert.deepEqual((await sealer.open(alice, reply)).frame, utf8('3'))
      assert.equal(await usesPrekey(bob.id, await sealer.seal(alice, bob.id.publicKey, utf8('4'))), true)
      await store.close()
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})

describe('envelopes: backends', () => {
  it('native and noble seal identical bytes from the same keys and randomness, and open each other', async () => {
    const seed = (v: number) => new Uint8Array(32).fill(v)
    const run = async (backend: typeof nativeBackend) => {
      const time = clock()
      const alice = identityFromSeed(seed(1), backend)
      const bob = identityFromSeed(seed(2), backend)
      const a = await sealerOf({ now: time.now, backend, random: scripted([seed(3), seed(4), seed(5)]) })
      const b = await sealerOf({ now: time.now, backend, random: scripted([seed(6), seed(7)]) })
      const first = await a.sealer.seal(alice, bob.publicKey, utf8('one'))
      await b.sealer.open(bob, first)
      const second = await b.sealer.seal(bob, alice.publicKey, utf8('two'))
      await a.sealer.open(alice, second)
      const third = await a.sealer.seal(alice, bob.publicKey, utf8('three'))
      return { first, second, third, b: b.sealer, bob }
    }
    const native = await run(nativeBackend)
    const noble = await run(nobleBackend)
    assert.deepEqual(noble.first, native.first)
    assert.deepEqual(noble.second, native.second)
    assert.deepEqual(noble.third, native.third)
    assert.deepEqual((await noble.b.open(noble.bob, native.third)).frame, utf8('three'))
  })
})

describe('envelope wire format', () => {
  const wireError = (code: string) => (e: unknown) => e instanceof EnvelopeWireError && e.code === code
  const body = () =>
    encodeEnvelopeBody({ prekey: new Uint8Array(32).fill(9), prekeyValidUntil: 5, frame: utf8('ab') })

  it('MAX_FRAME_BYTES fills the one INTRODUCE payload exactly', () => {
    assert.equal(ENVELOPE_LENGTH, 959)
    assert.equal(MAX_FRAME_BYTES, 812)
    assert.equal(BODY_LENGTH, MAX_FRAME_BYTES + 42)
  })

  it('an envelope of another length or version', () => {
    assert.throws(() => decodeEnvelope(new Uint8Array(ENVELOPE_LENGTH - 1)), wireError('ENVELOPE_LENGTH'))
    assert.throws(() => decodeEnvelope(new Uint8Array(ENVELOPE_LENGTH + 1)), wireError('ENVELOPE_LENGTH'))
    assert.throws(() => decodeEnvelope(new Uint8Array(ENVELOPE_LENGTH)), wireError('ENVELOPE_VERSION'))
  })

  it('a body with non-zero padding, a frame length over the limit, a time beyond 2^53', () => {
    assert.deepEqual(decodeEnvelopeBody(body()).frame, utf8('ab'))
    const padding = body()
    padding[BODY_LENGTH - 1] = 1
    assert.throws(() => decodeEnvelopeBody(padding), wireError('ENVELOPE_PADDING'))
    const length = body()
    new DataView(length.buffer).setUint16(40, MAX_FRAME_BYTES + 1)
    assert.throws(() => decodeEnvelopeBody(length), wireError('ENVELOPE_LENGTH'))
    const time = body()
    time.fill(0xff, 32, 40)
    assert.throws(() => decodeEnvelopeBody(time), wireError('ENVELOPE_FIELD'))
    assert.throws(() => decodeEnvelopeBody(body().subarray(1)), wireError('ENVELOPE_LENGTH'))
  })
})

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { x25519 } from '@noble/curves/ed25519.js'
import { hkdf } from '@noble/hashes/hkdf.js'
import { hmac } from '@noble/hashes/hmac.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { identityFromSeed } from '../../bridge/crypto/identity.js'
import { OnionError } from '../../bridge/onion/errors.js'
import { applyLayer, openEnd, sealEnd } from '../../bridge/onion/layers.js'
import { builderFinish, hopRespond } from '../../bridge/onion/ntor.js'
import { decodeCell, encodeCell } from '../../bridge/wire/cell.js'
import { decodeRelayMessage, encodeRelayMessage } from '../../bridge/wire/relay-message.js'
import { decodeRendezvous, encodeRendezvous } from '../../bridge/wire/rendezvous.js'
import { backends, hex, toHex, utf8 } from '../crypto/helpers.js'

// The vectors of docs/protocol.md "Onion" → "Vectors", verbatim.
const fill = (v: number, n = 32) => new Uint8Array(n).fill(v)
const V = {
  nodeKey: 'd04ab232742bb4ab3a1368bd4615e4e6d0224ab71a016baf8520a332c9778737',
  B: '7a46e129fd805047448437e4744f1f1576be8c449fdf57e0c580d36c5cfc6668',
  X: '0faa684ed28867b97f4a6a2dee5df8ce974e76b7018e3f22a1c4cf2678570f20',
  Y: '7b0d47d93427f8311160781c7c733fd89f88970aef490d8aa0ee19a4cb8a1b14',
  auth: 'e917594b8845e398b09db9792f995465e9c18f424f3383fc8fd2166d2ed15440',
  forward: '8f95771a0538fe8b3ecb58b8c7584e882bcb5173904b4288b3eeef03be7285a4',
  backward: '6f98055ec5994f636d9eabd4678033d9877a9a8d845a895aee00ea6a08d15944',
  endToEnd: 'df0f492041e761ed4eb69cd404b2af69117ac50319b1f9e81d0718198a4ae2c3',
  binding: '8c66efe86c94aeb242c7393e02401f35747b22013b53749f33541529c59d36b9',
  create:
    'c101020304010000000000000005d04ab232742bb4ab3a1368bd4615e4e6d0224ab71a016baf8520a332c97787370faa684ed28867b97f4a6a2dee5df8ce974e76b7018e3f22a1c4cf2678570f20',
  destroy: 'c1fffffffe0400000000000000000200',
  dataPlain: '0300026869000000',
  sealedHead: '045e1025e8419687ca8ff690aa7fc93c',
  sealedTag: 'b01f52ea2eb5ba01e95911e767697c1f',
  layeredHead: '90199214576ba119dfda29a774af1b42',
  layeredTail: '29dea8ea7d068c7f87fcc1f12b7e0435',
  rendezvous:
    '01000001a3185c500001d04ab232742bb4ab3a1368bd4615e4e6d0224ab71a016baf8520a332c9778737c00002070fa0aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' +
    '00'.repeat(490),
}

for (const backend of backends) {
  describe(`onion vectors (${backend.name})`, () => {
    const node = identityFromSeed(fill(0x11), backend)
    const x = fill(0x22)
    const y = fill(0x33)

    it('circuit handshake: hop reply and keys; the builder derives the same keys', () => {
      assert.equal(toHex(node.publicKey), V.nodeKey)
      assert.equal(toHex(node.x25519PublicKey), V.B)
      const X = backend.x25519PublicKey(x)
      assert.equal(toHex(X), V.X)
      const reply = hopRespond(backend, node, X, y)
      assert.equal(toHex(reply.ephemeral), V.Y)
      assert.equal(toHex(reply.auth), V.auth)
      const keys = builderFinish(backend, x, node.publicKey, reply.ephemeral, reply.auth)
      assert.deepEqual(keys, reply.keys)
      assert.deepEqual(Object.fromEntries(Object.entries(keys).map(([k, v]) => [k, toHex(v)])), {
        forward: V.forward,
        backward: V.backward,
        endToEnd: V.endToEnd,
        binding: V.binding,
      })
    })

    it('a wrong auth or another node key is HANDSHAKE_AUTH', () => {
      const auth = hex(V.auth)
      auth[0]! ^= 1
      assert.throws(() => builderFinish(backend, x, node.publicKey, hex(V.Y), auth), OnionError)
      const other = identityFromSeed(fill(0x12), backend).publicKey
      assert.throws(() => builderFinish(backend, x, other, hex(V.Y), hex(V.auth)), OnionError)
    })

    it('hop layer and end-to-end seal of a DATA "hi" at sequence 7', () => {
      const plain = encodeRelayMessage({ command: 'data', data: utf8('hi') })
      assert.equal(toHex(plain.subarray(0, 8)), V.dataPlain)
      const sealed = sealEnd(backend, hex(V.endToEnd), 'forward', 7, plain)
      assert.equal(sealed.length, 1010)
      assert.equal(toHex(sealed.subarray(0, 16)), V.sealedHead)
      assert.equal(toHex(sealed.subarray(-16)), V.sealedTag)
      const layered = applyLayer(backend, hex(V.forward), 7, sealed)
      assert.equal(toHex(layered.subarray(0, 16)), V.layeredHead)
      assert.equal(toHex(layered.subarray(-16)), V.layeredTail)
      const peeled = applyLayer(backend, hex(V.forward), 7, layered)
      assert.deepEqual(openEnd(backend, hex(V.endToEnd), 'forward', 7, peeled), plain)
      // The other direction or another sequence number does not open it.
      assert.throws(() => openEnd(backend, hex(V.endToEnd), 'backward', 7, peeled))
      assert.throws(() => openEnd(backend, hex(V.endToEnd), 'forward', 8, peeled))
    })
  })
}

describe('the handshake formula of docs/protocol.md, recomputed from @noble primitives', () => {
  it('gives the vector keys', () => {
    const node = identityFromSeed(fill(0x11))
    const X = hex(V.X)
    const Y = hex(V.Y)
    const secret = new Uint8Array([
      ...x25519.getSharedSecret(fill(0x22), Y),
      ...x25519.getSharedSecret(fill(0x22), node.x25519PublicKey),
      ...node.publicKey,
      ...node.x25519PublicKey,
      ...X,
      ...Y,
    ])
    const verify = hmac(sha256, utf8('paranoim/v1/onion-ntor-verify'), secret)
    const auth = hmac(
      sha256,
      utf8('paranoim/v1/onion-ntor-auth'),
      new Uint8Array([...verify, ...node.publicKey, ...node.x25519PublicKey, ...Y, ...X]),
    )
    assert.equal(toHex(auth), V.auth)
    const okm = hkdf(sha256, secret, verify, utf8('paranoim/v1/onion-hop-keys'), 128)
    assert.equal(toHex(okm), V.forward + V.backward + V.endToEnd + V.binding)
  })
})

describe('cell and record vectors', () => {
  it('CREATE: header and body, zero padded to 1024 bytes; decodes back', () => {
    const cell = encodeCell({
      command: 'create',
      circuitId: 0x01020304,
      sequence: 5,
      nodeKey: hex(V.nodeKey),
      ephemeral: hex(V.X),
    })
    assert.equal(cell.length, 1024)
    assert.equal(toHex(cell.subarray(0, 78)), V.create)
    assert.ok(cell.subarray(78).every((b) => b === 0))
    assert.deepEqual(decodeCell(cell), {
      command: 'create',
      circuitId: 0x01020304,
      sequence: 5,
      nodeKey: hex(V.nodeKey),
      ephemeral: hex(V.X),
    })
  })

  it('DESTROY with reason tampered', () => {
    const cell = encodeCell({ command: 'destroy', circuitId: 0xfffffffe, sequence: 0, reason: 2 })
    assert.equal(toHex(cell.subarray(0, 16)), V.destroy)
    assert.deepEqual(decodeCell(cell), { command: 'destroy', circuitId: 0xfffffffe, sequence: 0, reason: 2 })
  })

  it('rendezvous record with one intro point', () => {
    const record = {
      validUntil: 1_800_000_000_000,
      introPoints: [{ nodeKey: hex(V.nodeKey), host: '192.0.2.7', port: 4000, authKey: fill(0xaa) }],
    }
    assert.equal(toHex(encodeRendezvous(record)), V.rendezvous)
    assert.deepEqual(decodeRendezvous(hex(V.rendezvous)), record)
  })

  it('relay messages round-trip', () => {
    const messages = [
      { command: 'extend', nodeKey: fill(1), host: '10.0.0.1', port: 65535, ephemeral: fill(2) },
      { command: 'extended', ephemeral: fill(3), auth: fill(4) },
      { command: 'data', data: fill(5, 991) },
      { command: 'test', data: fill(6, 16) },
      { command: 'testReply', data: fill(6, 16) },
      { command: 'introRegister', authKey: fill(7), signature: fill(8, 64) },
      { command: 'introRegistered' },
      { command: 'introduce', authKey: fill(9), payload: fill(10, 959) },
      { command: 'introduceAck', status: 1 },
      { command: 'introduced', data: new Uint8Array(0) },
    ] as const
    for (const message of messages) assert.deepEqual(decodeRelayMessage(encodeRelayMessage(message)), message)
  })
})

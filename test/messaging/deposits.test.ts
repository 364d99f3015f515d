import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { generateIdentity } from '../../bridge/crypto/identity.js'
import { silentLogger } from '../../bridge/log.js'
import { EnvelopeSealer } from '../../bridge/messaging/envelope.js'
import type { MailboxPort } from '../../bridge/messaging/mailbox-port.js'
import { type MessageTransport, Messenger } from '../../bridge/messaging/messenger.js'
import { OnionError } from '../../bridge/onion/errors.js'
import { openStore } from '../../bridge/store/index.js'
import { DATA_HEADER_BYTES } from '../../bridge/wire/frame.js'
import { bytes, Network, tempDir, testConfig, until } from './messenger-harness.js'

/**
 * The depositor's own logic against a mailbox kept in memory (the real
 * MailboxClient on a testnet: mailbox-delivery.test.ts): when it deposits and
 * how much of a contact's queue.
 */
class MemoryMailbox implements MailboxPort {
  readonly items: Uint8Array[] = []
  async deposit(_to: Uint8Array, envelope: Uint8Array) {
    this.items.push(envelope)
    return Array.from({ length: 5 }, () => ({ status: 'ok' }))
  }
  async fetch() {
    return []
  }
  async ack() {}
}

const offline: MessageTransport = {
  send: async () => {
    throw new OnionError('NO_RECORD', 'no rendezvous record for this address')
  },
  forget: () => {},
}

async function sender(
  transport: MessageTransport,
  port: MailboxPort,
  overrides = {},
  maxFrameBytes?: number,
) {
  const store = await openStore({ dataDir: await tempDir() })
  const config = testConfig({ depositAfterMs: 400, ...overrides })
  const identity = generateIdentity()
  const messenger = new Messenger({
    store,
    transport,
    sealer: new EnvelopeSealer({ store, config }),
    config,
    log: silentLogger,
    deliver: async () => {},
    ...(maxFrameBytes ? { maxFrameBytes } : {}),
    mailbox: { port, holders: 5, concurrency: 2, fetchIntervalMs: 600_000 },
  })
  messenger.addIdentity(identity)
  return {
    identity,
    messenger,
    async stop() {
      await messenger.stop()
      await store.close()
    },
  }
}

describe('deposits', () => {
  it('keeps at most depositChunksPerContact chunks of the oldest messages deposited; the rest wait', async () => {
    const port = new MemoryMailbox()
    const chunk = 100
    const alice = await sender(offline, port, { depositChunksPerContact: 3 }, DATA_HEADER_BYTES + chunk)
    const bob = generateIdentity().publicKey
    await alice.messenger.send(alice.identity.publicKey, bob, new Uint8Array(chunk + 1)) // 2 chunks
    await alice.messenger.send(alice.identity.publicKey, bob, bytes('one chunk'))
    await alice.messenger.send(alice.identity.publicKey, bob, bytes('over the budget'))
    await until(() => port.items.length >= 3, 'the first two messages deposited')
    await new Promise((resolve) => setTimeout(resolve, 600))
    assert.equal(port.items.length, 3, 'two messages, three chunks, one stamp each; the third waits')
    await alice.stop()
  })

  it('a contact with a record that stays silent gets a deposit only after depositAfterMs', async () => {
    const network = new Network({ down: true }) // the sends "work", nothing arrives, nothing answers
    const port = new MemoryMailbox()
    const alice = await sender(network.transport(), port)
    const started = Date.now()
    await alice.messenger.send(alice.identity.publicKey, generateIdentity().publicKey, bytes('anyone?'))
    await until(() => port.items.length === 1, 'the deposit')
    assert.ok(Date.now() - started >= 400, `deposited after ${Date.now() - started} ms`)
    assert.ok(network.sent > 0, 'the direct path was tried first')
    await alice.stop()
  })
})

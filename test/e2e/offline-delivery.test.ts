import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { type Element, createElement as xml } from 'ltx'
import type { Testnet } from '../../bridge/dht/testnet.js'
import { tempDir } from '../store/helpers.js'
import { login, type TestClient, trustCertificate } from '../xmpp/client.js'
import { type BridgeProcess, createIdentity, startBridgeProcess } from './bridge-process.js'
import { startRelayTestnet } from './relay-testnet.js'

const DOMAIN = 'paranoim.localhost'
const PASSWORD = 'correct horse battery'
const RECEIPTS = 'urn:xmpp:receipts'
const DELAY = 'urn:xmpp:delay'
const MESSAGES = 50
/** Cheap stamps (every node of a network must agree on the difficulty), quick deposits and fetches. */
const DIFFICULTY = 4
const SETTINGS = [
  `mailbox.stampDifficulty=${DIFFICULTY}`,
  'messaging.depositAfterMs=2000',
  'mailbox.fetchIntervalMs=5000',
]

interface Side {
  nickname: string
  address: string
  dataDir: string
  bridge?: BridgeProcess
  client?: TestClient
}

const jidOf = (side: Side) => `${side.address}@${DOMAIN}`

/** Logs in (which unlocks the identity on its bridge) and answers receipt requests, as a real client does. */
async function connect(side: Side): Promise<TestClient> {
  const bridge = side.bridge!
  trustCertificate(bridge.cert, bridge.port)
  const client = await login(bridge.port, side.nickname, { password: PASSWORD, resource: 'test' }).catch(
    (error: unknown) => {
      throw new Error(`${side.nickname} cannot log in: ${error}\n${bridge.logs.slice(-30).join('\n')}`)
    },
  )
  client.xmpp.on('stanza', (stanza: Element) => {
    const id = stanza.attrs.id
    if (stanza.is('message') && stanza.getChild('request', RECEIPTS) && id)
      void client.xmpp.send(
        xml('message', { to: stanza.attrs.from }, xml('received', { xmlns: RECEIPTS, id })),
      )
  })
  await client.xmpp.send(xml('presence'))
  return client
}

async function until(what: string, check: () => boolean, timeoutMs: number, logs?: string[]): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${logs ? `\n${logs.slice(-40).join('\n')}` : ''}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

/** Messages the bridge logged as left in mailboxes (its info lines). */
function deposited(bridge: BridgeProcess): number {
  let total = 0
  for (const line of bridge.logs) {
    if (!line.includes('mailbox')) continue
    try {
      const entry = JSON.parse(line) as { msg?: string; deposited?: number }
      if (entry.msg?.startsWith('messages left in') && entry.deposited) total += entry.deposited
    } catch {
      // stdout chunks, not log lines
    }
  }
  return total
}

describe('offline delivery between two bridges through mailboxes held by the testnet relays', () => {
  let testnet: Testnet
  let bootstrap: string
  const alice: Side = { nickname: 'alice', address: '', dataDir: '' }
  const bob: Side = { nickname: 'bob', address: '', dataDir: '' }

  async function start(side: Side, extra: string[] = []): Promise<void> {
    side.bridge = await startBridgeProcess(side.dataDir, bootstrap, [...SETTINGS, ...extra])
    side.client = await connect(side)
  }
  async function stop(side: Side): Promise<void> {
    await side.client?.stop()
    await side.bridge?.stop()
    side.client = undefined
    side.bridge = undefined
  }

  before(async () => {
    ;({ testnet, bootstrap } = await startRelayTestnet(12, { mailbox: { stampDifficulty: DIFFICULTY } }))
    const root = await tempDir('paranoim-offline-')
    for (const side of [alice, bob]) {
      side.dataDir = join(root, side.nickname)
      side.address = await createIdentity(side.dataDir, side.nickname, PASSWORD)
    }
  })
  after(async () => {
    await stop(alice)
    await stop(bob)
    await testnet?.stop()
  })

  it(`B offline, A sends ${MESSAGES} and goes offline, B comes online: all arrive once, in order, with their original times; A comes back to B’s receipts`, async () => {
    await start(alice)
    // A stanza's network time is set between its sending and the server's XEP-0198 ack (it is stored first).
    const sentAt: number[] = []
    const ackedAt = new Map<string, number>()
    alice.client!.xmpp.streamManagement.on('ack', (stanza: Element) => {
      if (stanza.attrs.id) ackedAt.set(stanza.attrs.id, Date.now())
    })
    for (let i = 0; i < MESSAGES; i++) {
      sentAt.push(Date.now())
      await alice.client!.xmpp.send(
        xml(
          'message',
          { to: jidOf(bob), type: 'chat', id: `a${i}` },
          xml('body').t(`offline ${i}`),
          xml('request', { xmlns: RECEIPTS }),
        ),
      )
    }
    await until('alice’s client got every XEP-0198 ack', () => ackedAt.size >= MESSAGES, 30_000)
    // B never had a record: A's bridge deposits at once, then stops before B shows up.
    await until(
      'alice’s bridge deposited all',
      () => deposited(alice.bridge!) >= MESSAGES,
      60_000,
      alice.bridge!.logs,
    )
    await stop(alice)
    // B stays away a little longer than the gateway's 5 s before it stamps a message as delayed
    // (on a quiet machine all of the above takes less).
    const away = sentAt[0]! + 6_000 - Date.now()
    if (away > 0) await new Promise((resolve) => setTimeout(resolve, away))

    // Bob accepts a first message from an address not yet in his roster (A wrote to him out of the blue).
    await start(bob, ['gateway.acceptStrangerMessages=true'])
    const received = () =>
      bob.client!.stanzas.filter(
        (s) => s.is('message') && s.attrs.from?.startsWith(jidOf(alice)) && s.getChild('body'),
      )
    await until(`bob has ${MESSAGES}`, () => received().length >= MESSAGES, 60_000, bob.bridge!.logs)
    await new Promise((resolve) => setTimeout(resolve, 1500)) // a copy from a second holder would show up here
    const messages = received()
    assert.deepEqual(
      messages.map((m) => m.getChildText('body')),
      Array.from({ length: MESSAGES }, (_, i) => `offline ${i}`),
      'each once, in order',
    )
    let previous = 0
    messages.forEach((message, i) => {
      const stamp = message.getChild('delay', DELAY)?.attrs.stamp
      assert.ok(stamp, `message ${i} carries an XEP-0203 delay`)
      const original = Date.parse(stamp)
      // Millisecond stamps; the clocks are one machine's. A stream's timestamps strictly increase (one
      // past the previous when several are sent in one millisecond), so one may run past its ack.
      const latest = Math.max(ackedAt.get(`a${i}`)!, previous + 1)
      assert.ok(
        original >= sentAt[i]! && original <= latest,
        `message ${i}: ${stamp} not within its sending (${sentAt[i]}–${latest})`,
      )
      previous = original
    })

    // Bob's client acknowledged each with a receipt; A is offline, so they wait in A's mailbox.
    await until(
      'bob’s bridge deposited the receipts',
      () => deposited(bob.bridge!) >= MESSAGES,
      60_000,
      bob.bridge!.logs,
    )
    await stop(bob)

    await start(alice)
    const receipts = () =>
      new Set(alice.client!.stanzas.flatMap((s) => s.getChild('received', RECEIPTS)?.attrs.id ?? []))
    await until(
      `alice has ${MESSAGES} receipts`,
      () => receipts().size >= MESSAGES,
      60_000,
      alice.bridge!.logs,
    )
    for (let i = 0; i < MESSAGES; i++) assert.ok(receipts().has(`a${i}`), `receipt for a${i}`)
  })
})

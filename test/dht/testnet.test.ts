import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { generateIdentity } from '../../bridge/crypto/index.js'
import { RELAY_INFO_HASH } from '../../bridge/dht/relay-info-hash.js'
import { formatTestnetStatus, startTestnet, type Testnet } from '../../bridge/dht/testnet.js'
import { RecordKind } from '../../bridge/wire/record.js'
import { allRelaysListed, FAST, signerOf, waitUntil } from './helpers.js'

const N = 30
const text = (s: string) => new TextEncoder().encode(s)

describe(`a ${N}-node testnet`, () => {
  let net: Testnet
  const progress: number[] = []
  before(async () => {
    net = await startTestnet({
      nodes: N,
      dht: FAST,
      confirmRelaysOverLinks: true,
      onProgress: (p) => progress.push(p.joined),
    })
  })
  after(async () => {
    await net.stop()
  })

  it('reports progress while nodes join, then converges: every node knows the others', async () => {
    assert.deepEqual(
      progress,
      Array.from({ length: N }, (_, i) => i + 1),
    )
    await waitUntil('every routing table holds min(N − 1, k) contacts', () =>
      net.status().every((row) => row.ready && row.nodes >= Math.min(N - 1, net.config.k)),
    )
    const status = net.status()
    assert.equal(status.length, N)
    assert.ok(status.every((row) => row.buckets >= 1))
    assert.match(formatTestnetStatus(status), /^#\s+endpoint/)
  })

  it('every node finds every other node’s verified descriptor and links to its node key', async () => {
    await allRelaysListed(net)
    for (const node of net.nodes) {
      const ids = new Set(node.service.directory.list().map((e) => e.id))
      for (const other of net.nodes) {
        if (other === node) continue
        assert.ok(
          ids.has(Buffer.from(other.nodeKey.publicKey).toString('hex')),
          `${node.index} misses ${other.index}`,
        )
        const entry = node.service.directory.get(Buffer.from(other.nodeKey.publicKey).toString('hex'))!
        assert.deepEqual(entry.endpoint, other.endpoint)
      }
      const linked = node.links.list().filter((l) => l.role === 'initiator' && l.state === 'up')
      assert.equal(linked.length, N - 1, `node ${node.index} has links to every relay`)
    }
  })

  it('a record put by one node is got by all the others', async () => {
    const owner = generateIdentity()
    await net.nodes[7]!.service.records.publish({
      signer: signerOf(owner),
      kind: RecordKind.signed,
      body: text('to all'),
    })
    const results = await Promise.all(net.nodes.map((node) => node.service.records.fetch(owner.publicKey)))
    for (const [i, got] of results.entries()) assert.deepEqual(got?.body, text('to all'), `node ${i}`)
  })

  it('after 30 % of the nodes die at once, lookups from the rest still succeed', async () => {
    const owner = generateIdentity()
    const address = generateIdentity()
    await net.nodes[3]!.service.records.publish({
      signer: signerOf(owner),
      kind: RecordKind.signed,
      body: text('survives'),
    })
    await net.nodes[4]!.service.blinded.publish(address, text('intro points'))
    const victims = net.nodes.filter((node) => node.index % 10 >= 7) // 9 of 30, the bootstrap node kept
    assert.equal(victims.length, Math.round(N * 0.3))
    await Promise.all(victims.map((node) => node.stop()))
    const survivors = net.nodes.filter((node) => node.running)
    const records = await Promise.all(survivors.map((node) => node.service.records.fetch(owner.publicKey)))
    for (const [i, got] of records.entries())
      assert.deepEqual(got?.body, text('survives'), `survivor ${survivors[i]!.index}`)
    const blinded = await Promise.all(survivors.map((node) => node.service.blinded.fetch(address.publicKey)))
    for (const [i, got] of blinded.entries())
      assert.deepEqual(got, text('intro points'), `survivor ${survivors[i]!.index}`)
    const peers = await survivors[5]!.service.dht.findPeers(RELAY_INFO_HASH)
    assert.ok(peers.length >= survivors.length - 1, `found ${peers.length} relays`)
  })
})

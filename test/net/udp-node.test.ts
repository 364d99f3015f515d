import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createRequire } from 'node:module'
import { after, before, describe, it } from 'node:test'
import { silentLogger } from '../../bridge/log.js'
import { NetError } from '../../bridge/net/errors.js'
import { createUdpNode, type KrpcSocket, type Rinfo, type UdpNode } from '../../bridge/net/udp-node.js'

/** The slice of k-rpc-socket this test drives, to prove the facade satisfies the real library. */
interface KrpcRpc {
  query(peer: { host: string; port: number }, query: { q: string; a: object }, cb: QueryCallback): number
  response(peer: Rinfo, req: { t: Buffer }, res: object): void
  on(
    event: 'query',
    listener: (message: { t: Buffer; q: Buffer; a: { id: Buffer } }, peer: Rinfo) => void,
  ): void
  destroy(cb?: () => void): void
}
type QueryCallback = (error: Error | null, message: { r: { id: Buffer } } | null) => void
const krpcRpc = createRequire(import.meta.url)('k-rpc-socket') as (opts: { socket: KrpcSocket }) => KrpcRpc

const waitFor = async (check: () => boolean): Promise<void> => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 5))
  assert.ok(check(), 'condition not reached in time')
}

describe('UdpNode', () => {
  let a: UdpNode
  let b: UdpNode
  before(async () => {
    a = createUdpNode({ bind: { host: '127.0.0.1', port: 0 }, log: silentLogger })
    b = createUdpNode({ bind: { host: '127.0.0.1', port: 0 }, log: silentLogger })
    await Promise.all([a.start(), b.start()])
  })
  after(async () => {
    await Promise.all([a.stop(), b.stop()])
  })

  it('binds an ephemeral port on loopback', () => {
    assert.equal(a.address().host, '127.0.0.1')
    assert.ok(a.address().port > 0)
    assert.notEqual(a.address().port, b.address().port)
  })

  it('delivers overlay datagrams to overlay handlers only', async () => {
    const got: Uint8Array[] = []
    const krpcSeen: Buffer[] = []
    const facade = b.krpcSocket()
    const onKrpc = (m: Buffer) => krpcSeen.push(m)
    facade.on('message', onKrpc)
    const off = b.onOverlay((packet, from) => {
      assert.equal(from.port, a.address().port)
      got.push(packet)
    })
    a.send(Uint8Array.of(0x01, 2, 3), b.address().port, '127.0.0.1')
    await waitFor(() => got.length === 1)
    off()
    facade.removeListener('message', onKrpc)
    assert.deepEqual([...got[0]!], [1, 2, 3])
    assert.equal(krpcSeen.length, 0)
  })

  it('refuses to send an overlay packet that would read as KRPC', () => {
    assert.throws(
      () => a.send(Uint8Array.of(0x64, 0), b.address().port, '127.0.0.1'),
      (e: unknown) => e instanceof NetError && e.code === 'OVERLAY_FIRST_BYTE',
    )
  })

  it('runs a real k-rpc-socket query/response through the facades, unseen by overlay handlers', async () => {
    const overlaySeen: Uint8Array[] = []
    const off = a.onOverlay((p) => overlaySeen.push(p))
    const offB = b.onOverlay((p) => overlaySeen.push(p))
    const rpcA = krpcRpc({ socket: a.krpcSocket() })
    const rpcB = krpcRpc({ socket: b.krpcSocket() })
    const idB = Buffer.alloc(20, 0xbb)
    rpcB.on('query', (message, peer) => {
      assert.equal(message.q.toString(), 'ping')
      rpcB.response(peer, message, { id: idB })
    })
    const before = { ...a.counters().krpc }
    const reply = await new Promise<{ r: { id: Buffer } }>((resolve, reject) => {
      rpcA.query(
        { host: '127.0.0.1', port: b.address().port },
        { q: 'ping', a: { id: Buffer.alloc(20, 0xaa) } },
        (e, m) => (e || !m ? reject(e) : resolve(m)),
      )
    })
    assert.deepEqual(reply.r.id, idB)
    const after = a.counters().krpc
    assert.equal(after.packetsOut - before.packetsOut, 1)
    assert.equal(after.packetsIn - before.packetsIn, 1)
    assert.ok(after.bytesIn > before.bytesIn)
    assert.equal(overlaySeen.length, 0)
    off()
    offB()
    const closed = once(a.krpcSocket(), 'close')
    rpcA.destroy()
    await closed
    rpcB.destroy()
  })

  it('counts every datagram and byte by kind, and drops empty datagrams', async () => {
    const before = structuredClone(b.counters())
    a.send(new Uint8Array(100).fill(7), b.address().port, '127.0.0.1')
    a.krpcSocket().send(Buffer.from('d1:y1:qe'), 0, 8, b.address().port, '127.0.0.1')
    a.send(new Uint8Array(0), b.address().port, '127.0.0.1')
    await waitFor(() => b.counters().emptyDropped > before.emptyDropped)
    await waitFor(() => b.counters().krpc.packetsIn > before.krpc.packetsIn)
    const now = b.counters()
    assert.equal(now.overlay.packetsIn - before.overlay.packetsIn, 1)
    assert.equal(now.overlay.bytesIn - before.overlay.bytesIn, 100)
    assert.equal(now.krpc.bytesIn - before.krpc.bytesIn, 8)
    assert.equal(now.emptyDropped - before.emptyDropped, 1)
  })

  it('survives a throwing overlay handler and counts it', async () => {
    const off = b.onOverlay(() => {
      throw new Error('handler bug')
    })
    const before = b.counters().handlerErrors
    a.send(Uint8Array.of(9), b.address().port, '127.0.0.1')
    await waitFor(() => b.counters().handlerErrors === before + 1)
    off()
  })

  it('names the address when it cannot bind', async () => {
    const taken = createUdpNode({ bind: { host: '127.0.0.1', port: a.address().port }, log: silentLogger })
    await assert.rejects(taken.start(), (e: unknown) => e instanceof NetError && e.code === 'BIND_FAILED')
  })

  it('reports NOT_STARTED before start', () => {
    const idle = createUdpNode({ bind: { host: '127.0.0.1', port: 0 }, log: silentLogger })
    assert.throws(
      () => idle.address(),
      (e: unknown) => e instanceof NetError && e.code === 'NOT_STARTED',
    )
  })
})

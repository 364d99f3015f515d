import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Link } from '../../bridge/net/link.js'
import { CELL_HEADER_LENGTH, decodeCell, encodeCell } from '../../bridge/wire/cell.js'
import { waitFor } from '../net/helpers.js'
import { type OnionTestNode, sleep, startOnionNodes, stopAll } from './helpers.js'

const CELLS = 1000

const totalDrops = (nodes: OnionTestNode[], reasons: Array<'replayed' | 'tampered' | 'unknownCircuit'>) =>
  nodes.reduce((sum, n) => sum + reasons.reduce((s, r) => s + n.router.counters.dropped[r], 0), 0)

/** Sends in small bursts so loopback UDP buffers never overflow (a lost cell would not be counted). */
async function sendPaced(link: Link, cells: Uint8Array[]): Promise<void> {
  for (let i = 0; i < cells.length; i += 25) {
    for (const cell of cells.slice(i, i + 25)) link.send(cell)
    await sleep(2)
  }
}

describe(`${CELLS} tampered or replayed cells are all dropped and counted`, () => {
  let nodes: OnionTestNode[]
  before(async () => {
    nodes = await startOnionNodes(4)
  })
  after(() => stopAll(nodes))

  async function circuitWithCapturedCell() {
    const [builder, a, b, c] = nodes as [OnionTestNode, OnionTestNode, OnionTestNode, OnionTestNode]
    const circuit = await builder.router.buildCircuit([a.target, b.target, c.target])
    const captured: Uint8Array[] = []
    const off = a.links.onMessage((payload) => captured.push(payload.slice()))
    await circuit.test()
    off()
    const relayCell = captured.find((p) => decodeCell(p).command === 'relay')!
    return { circuit, relayCell, relays: [a, b, c], builder }
  }

  it('replays: every copy is dropped at the first hop, the circuit keeps working', async () => {
    const { circuit, relayCell, relays } = await circuitWithCapturedCell()
    const before = totalDrops(relays, ['replayed'])
    const forwarded = relays[0]!.router.counters.cellsForwarded
    await sendPaced(
      circuit.link,
      Array.from({ length: CELLS }, () => relayCell),
    )
    await waitFor(() => totalDrops(relays, ['replayed']) - before === CELLS, 10_000)
    assert.equal(relays[0]!.router.counters.cellsForwarded, forwarded, 'a replayed cell went on')
    assert.ok((await circuit.test()) >= 0, 'the circuit still works')
    circuit.destroy()
  })

  it('tampered (fresh sequence, one bit flipped): the end detects it and the circuit is torn down', async () => {
    const { circuit, relayCell, relays, builder } = await circuitWithCapturedCell()
    const before = totalDrops(relays, ['tampered', 'unknownCircuit'])
    const cell = decodeCell(relayCell)
    if (cell.command !== 'relay') throw new Error('expected a relay cell')
    const tampered = Array.from({ length: CELLS }, (_, i) => {
      const body = cell.body.slice()
      body[i % body.length]! ^= 1 << (i % 8)
      return encodeCell({ ...cell, sequence: cell.sequence + 100 + i, body })
    })
    assert.equal(tampered[0]!.length - CELL_HEADER_LENGTH, cell.body.length)
    await sendPaced(circuit.link, tampered)
    await waitFor(() => totalDrops(relays, ['tampered', 'unknownCircuit']) - before === CELLS, 10_000)
    assert.ok(relays[2]!.router.counters.dropped.tampered >= 1, 'the end saw the tampering')
    await waitFor(() => circuit.closed)
    await waitFor(() => relays.every((r) => r.router.relay.circuitCount === 0))
    assert.equal(builder.router.counters.dropped.tampered, 0)
  })

  it('a backward cell tampered by a relay is detected by the builder, which tears the circuit down', async () => {
    const [builder, a, b, c] = nodes as [OnionTestNode, OnionTestNode, OnionTestNode, OnionTestNode]
    const circuit = await builder.router.buildCircuit([a.target, b.target, c.target])
    // b turns hostile: it flips one bit of every backward relay cell it sends to a.
    const linkToA = b.links.list().find((l) => l.role === 'responder')!
    const send = linkToA.send.bind(linkToA)
    linkToA.send = (payload: Uint8Array) => {
      const copy = payload.slice()
      if (decodeCell(copy).command === 'relay') copy[CELL_HEADER_LENGTH + 5]! ^= 0x10
      send(copy)
    }
    await assert.rejects(circuit.test())
    assert.equal(builder.router.counters.dropped.tampered, 1)
    assert.ok(circuit.closed)
    linkToA.send = send
  })
})

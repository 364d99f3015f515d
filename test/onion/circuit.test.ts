import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { OnionError } from '../../bridge/onion/errors.js'
import { waitFor } from '../net/helpers.js'
import { type OnionTestNode, startOnionNodes, stopAll } from './helpers.js'

describe('circuits over real links on 127.0.0.1', () => {
  let nodes: OnionTestNode[]
  before(async () => {
    nodes = await startOnionNodes(5)
  })
  after(() => stopAll(nodes))

  it('builds a 3-hop circuit by CREATE and two EXTENDs, and a test cell goes round', async () => {
    const [builder, a, b, c] = nodes as [OnionTestNode, OnionTestNode, OnionTestNode, OnionTestNode]
    const circuit = await builder.router.buildCircuit([a.target, b.target, c.target])
    assert.equal(circuit.hops.length, 3)
    const rtt = await circuit.test()
    assert.ok(rtt >= 0)
    assert.equal(a.router.relay.circuitCount, 1)
    assert.equal(c.router.relay.circuitCount, 1)
    assert.ok(b.router.counters.cellsForwarded >= 2)
    circuit.destroy()
    await waitFor(() => a.router.relay.circuitCount === 0 && c.router.relay.circuitCount === 0)
  })

  it('refuses a hop whose node key is not the one asked for', async () => {
    const [builder, a, b] = nodes as [OnionTestNode, OnionTestNode, OnionTestNode]
    const impostor = { nodeKey: b.identity.publicKey, endpoint: a.target.endpoint }
    await assert.rejects(builder.router.buildCircuit([impostor]), (error: unknown) => {
      return error instanceof OnionError || (error as Error).name === 'LinkError'
    })
  })

  it('relay state expires with the circuit, and the builder learns it', async () => {
    const [builder, a, b] = nodes as [OnionTestNode, OnionTestNode, OnionTestNode]
    const circuit = await builder.router.buildCircuit([a.target, b.target])
    const lifetime = a.router.config.circuitLifetimeMs
    a.router.relay.expire(Date.now() + lifetime / 2)
    assert.equal(a.router.relay.circuitCount, 1, 'not before its time')
    a.router.relay.expire(Date.now() + lifetime * 2)
    assert.equal(a.router.relay.circuitCount, 0)
    await waitFor(() => circuit.closed && b.router.relay.circuitCount === 0)
  })

  it('garbage on a link costs nothing: every payload is dropped and counted', () => {
    const [, a] = nodes as [OnionTestNode, OnionTestNode]
    const link = a.links.list()[0]!
    const malformed = a.router.counters.dropped.malformed
    const sum = () => Object.values(a.router.counters.dropped).reduce((x, y) => x + y, 0)
    const start = sum()
    for (let i = 0; i < 2000; i++) {
      const payload = a.node.random(i % 2 ? 1024 : (i % 1300) + 1)
      payload[0] = 0xc1
      a.router.handle(payload, link)
    }
    assert.equal(sum() - start, 2000)
    assert.ok(a.router.counters.dropped.malformed > malformed, 'random bytes are malformed cells')
  })

  it('a relay refuses circuits beyond maxRelayCircuits', async () => {
    const limited = await startOnionNodes(2, { maxRelayCircuits: 2 })
    try {
      const [builder, relay] = limited as [OnionTestNode, OnionTestNode]
      await builder.router.buildCircuit([relay.target])
      await builder.router.buildCircuit([relay.target])
      await assert.rejects(builder.router.buildCircuit([relay.target]), OnionError)
      assert.equal(relay.router.relay.circuitCount, 2)
      assert.equal(relay.router.counters.dropped.limit, 1)
    } finally {
      await stopAll(limited)
    }
  })

  it('a relay that cannot reach the next hop destroys the circuit: the build fails', async () => {
    const [builder, a] = nodes as [OnionTestNode, OnionTestNode]
    const nowhere = { nodeKey: nodes[4]!.identity.publicKey, endpoint: { host: '127.0.0.1', port: 9 } }
    await assert.rejects(builder.router.buildCircuit([a.target, nowhere]), OnionError)
    await waitFor(() => a.router.relay.circuitCount === 0, 5000)
  })
})

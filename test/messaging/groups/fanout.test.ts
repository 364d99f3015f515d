import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import {
  childrenOf,
  chooseWidth,
  type FanoutHeader,
  FanoutPlanError,
  fanoutPlan,
  isOnline,
  onlineBitmap,
  seededRandom,
  upstreamOf,
} from '../../../bridge/messaging/groups/fanout.js'

const LIMITS = { directMax: 20, fanout: 10, maxOutDegree: 32 }

/** A random header: up to 1,500 members, any share online, the width the origin would choose (or any). */
const headers = (options: { anyWidth?: boolean } = {}) =>
  fc
    .record({
      memberCount: fc.integer({ min: 1, max: 1500 }),
      onlineShare: fc.double({ min: 0, max: 1, noNaN: true }),
      bits: fc.integer(),
      originAt: fc.double({ min: 0, max: 0.999, noNaN: true }),
      seed: fc.uint8Array({ minLength: 16, maxLength: 16 }),
      width: fc.integer({ min: 2, max: 40 }),
    })
    .map(({ memberCount, onlineShare, bits, originAt, seed, width }): FanoutHeader => {
      // A cheap, reproducible spread of online bits (Knuth's multiplicative hash of the index).
      const online = onlineBitmap(
        memberCount,
        (i) => ((Math.imul(i + 1, 2654435761) ^ bits) >>> 0) / 2 ** 32 < onlineShare,
      )
      const origin = Math.floor(originAt * memberCount)
      const others = countOnline({ memberCount, online, origin })
      return {
        memberCount,
        online,
        origin,
        seed,
        width: options.anyWidth ? width : chooseWidth(others, LIMITS),
      }
    })

function countOnline(header: Pick<FanoutHeader, 'memberCount' | 'online' | 'origin'>): number {
  let n = 0
  for (let i = 0; i < header.memberCount; i++) if (i !== header.origin && isOnline(header.online, i)) n++
  return n
}

/** Members reached from the origin when the members in `silent` receive but do not forward. */
function reached(children: number[][], origin: number, silent: Set<number> = new Set()): Set<number> {
  const seen = new Set([origin])
  const queue = [origin]
  while (queue.length > 0) {
    const at = queue.shift()!
    if (at !== origin && silent.has(at)) continue
    for (const child of children[at]!)
      if (!seen.has(child)) {
        seen.add(child)
        queue.push(child)
      }
  }
  seen.delete(origin)
  return seen
}

const onlineSet = (header: FanoutHeader) =>
  new Set(
    Array.from({ length: header.memberCount }, (_, i) => i).filter(
      (i) => i !== header.origin && isOnline(header.online, i),
    ),
  )

describe('fan-out plan (docs/group-fanout.md "The tree")', () => {
  it('reaches every online member and no one else', () => {
    fc.assert(
      fc.property(headers({ anyWidth: true }), (header) => {
        const plan = fanoutPlan(header)
        assert.deepEqual(reached(plan.children, header.origin), onlineSet(header))
        const inLayers = plan.layers.slice(1).flat()
        assert.equal(new Set(inLayers).size, inLayers.length, 'each member is in one layer')
      }),
      { numRuns: 200 },
    )
  })

  it('gives every member of a tree two distinct upstream members', () => {
    fc.assert(
      fc.property(headers({ anyWidth: true }), (header) => {
        const plan = fanoutPlan(header)
        if (onlineSet(header).size < 2) return
        for (const member of onlineSet(header)) {
          const up = plan.upstream[member]!
          assert.equal(new Set(up).size, up.length, `member ${member}: upstream repeats`)
          assert.ok(up.length >= 2, `member ${member} has ${up.length} upstream`)
          assert.ok(!up.includes(member))
        }
      }),
      { numRuns: 200 },
    )
  })

  it('upstream members are the origin, the previous layer, or the ring neighbour in the first layer', () => {
    fc.assert(
      fc.property(headers({ anyWidth: true }), (header) => {
        const plan = fanoutPlan(header)
        const layerOf = new Map(plan.layers.flatMap((layer, k) => layer.map((m) => [m, k] as const)))
        for (const [member, k] of layerOf) {
          for (const up of plan.upstream[member]!) {
            const from = layerOf.get(up)!
            assert.ok(from === k - 1 || (k === 1 && from === 1), `layer ${from} → layer ${k}`)
          }
        }
      }),
      { numRuns: 100 },
    )
  })

  it('any one member that stops forwarding cuts no one else off', () => {
    fc.assert(
      fc.property(headers({ anyWidth: true }), fc.nat(), (header, pick) => {
        const plan = fanoutPlan(header)
        const online = [...onlineSet(header)]
        if (online.length < 2) return
        const silent = online[pick % online.length]!
        const got = reached(plan.children, header.origin, new Set([silent]))
        assert.deepEqual(got, new Set(online))
      }),
      { numRuns: 200 },
    )
  })

  it('bounds out-degree: origin ≤ width, first layer ≤ 2·width + 1, deeper ≤ 2·width', () => {
    fc.assert(
      fc.property(headers({ anyWidth: true }), (header) => {
        const plan = fanoutPlan(header)
        const g = header.width
        assert.ok(plan.children[header.origin]!.length <= g)
        plan.layers.forEach((layer, k) => {
          if (k === 0) return
          for (const member of layer)
            assert.ok(plan.children[member]!.length <= (k === 1 ? 2 * g + 1 : 2 * g), `layer ${k}`)
        })
      }),
      { numRuns: 200 },
    )
  })

  it('the origin’s choice: direct up to directMax, else a tree within maxOutDegree, ~log_g depth', () => {
    fc.assert(
      fc.property(headers(), (header) => {
        const plan = fanoutPlan(header)
        const others = countOnline(header)
        if (others <= LIMITS.directMax) {
          assert.equal(header.width, 0)
          assert.equal(plan.children[header.origin]!.length, others)
          for (const member of onlineSet(header)) assert.deepEqual(plan.upstream[member], [header.origin])
          return
        }
        const g = header.width
        assert.ok(g >= LIMITS.fanout && 2 * g + 1 <= LIMITS.maxOutDegree, `width ${g}`)
        for (const children of plan.children) assert.ok(children.length <= LIMITS.maxOutDegree)
        const depth = plan.layers.length - 1
        assert.ok(g ** (depth - 1) < others, `depth ${depth} is more than needed for ${others} at ${g}`)
      }),
      { numRuns: 200 },
    )
  })

  it('childrenOf and upstreamOf give each member exactly its part of the whole plan, in order', () => {
    fc.assert(
      fc.property(headers({ anyWidth: true }), (header) => {
        const plan = fanoutPlan(header)
        for (let i = 0; i < header.memberCount; i++) {
          assert.deepEqual(childrenOf(header, i), plan.children[i], `children of member ${i}`)
          assert.deepEqual(upstreamOf(header, i), plan.upstream[i], `upstream of member ${i}`)
        }
      }),
      { numRuns: 60 },
    )
  })

  it('is deterministic: the same header gives the same plan; another message id another one', () => {
    fc.assert(
      fc.property(headers(), (header) => {
        const copy = { ...header, online: header.online.slice(), seed: header.seed.slice() }
        assert.deepEqual(fanoutPlan(copy), fanoutPlan(header))
      }),
      { numRuns: 100 },
    )
    const base: FanoutHeader = {
      memberCount: 1000,
      online: onlineBitmap(1000, () => true),
      origin: 0,
      seed: new Uint8Array(16).fill(1),
      width: 10,
    }
    const other = fanoutPlan({ ...base, seed: new Uint8Array(16).fill(2) })
    assert.notDeepEqual(fanoutPlan(base).layers[1], other.layers[1], 'the relays change per message')
  })

  it('pins the shuffle (xoshiro128**), so every implementation builds the same tree', () => {
    // The reference generator's first outputs from the state {1, 2, 3, 4} (prng.di.unimi.it).
    const next = seededRandom(Uint8Array.of(0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4))
    assert.deepEqual(Array.from({ length: 6 }, next), [11520, 0, 5927040, 70819200, 2031721883, 1637235492])
    const plan = fanoutPlan({
      memberCount: 40,
      online: onlineBitmap(40, (i) => i % 4 !== 3),
      origin: 5,
      seed: Uint8Array.from({ length: 16 }, (_, i) => i),
      width: 0,
    })
    assert.deepEqual(
      plan.layers[1],
      [
        6, 28, 22, 13, 34, 29, 38, 8, 1, 36, 10, 2, 9, 37, 21, 33, 26, 14, 0, 12, 20, 32, 24, 4, 16, 18, 25,
        30, 17,
      ],
    )
  })

  it('widens to save a layer when few are online, and stays at fanout otherwise', () => {
    assert.equal(chooseWidth(20, LIMITS), 0)
    assert.equal(chooseWidth(21, LIMITS), 10)
    assert.equal(chooseWidth(110, LIMITS), 10)
    assert.equal(chooseWidth(200, LIMITS), 14, 'two layers (14 + 196) instead of three')
    assert.equal(chooseWidth(240, LIMITS), 15)
    assert.equal(chooseWidth(241, LIMITS), 10, 'three layers either way: back to fanout')
    assert.equal(chooseWidth(800, LIMITS), 10)
    assert.equal(chooseWidth(2000, LIMITS), 13)
  })

  it('refuses a header no plan exists for', () => {
    const header = { memberCount: 4, online: onlineBitmap(4, () => true), seed: new Uint8Array(16) }
    assert.throws(() => fanoutPlan({ ...header, origin: 4, width: 0 }), FanoutPlanError)
    assert.throws(() => fanoutPlan({ ...header, origin: 0, width: 1 }), FanoutPlanError)
    assert.throws(() => fanoutPlan({ ...header, origin: 0, width: 256 }), FanoutPlanError)
  })
})

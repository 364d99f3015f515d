import { ParanoimError } from '../../errors.js'

/**
 * The delivery plan of one group message (docs/group-fanout.md "The tree"):
 * who sends the packet to whom. Pure and deterministic: every member that
 * holds the packet computes the same plan from its header alone (member
 * count, online bitmap, origin, message id, width), so it knows its own
 * children without being told.
 *
 * width 0 ("direct"): the origin sends to every online member itself.
 * width g ≥ 2 ("tree"): the online members other than the origin, shuffled
 * by a PRNG seeded with the message id, fill layers of g, g², g³ … members
 * (the last one partial). The origin sends to layer 1; layer-1 members also
 * pass it round a ring (member j → member j+1), so each has two upstream
 * members; every member of layer k ≥ 2 gets it from two distinct members
 * of layer k − 1. Out-degree: origin g, a layer-1 member ≤ 2g + 1, deeper
 * members ≤ 2g.
 */
export interface FanoutHeader {
  /** Members of the group state the packet names. */
  memberCount: number
  /** Bit i (byte i >> 3, most significant bit first) set: member i counted online by the origin. */
  online: Uint8Array
  /** Index of the origin in the member list (its own bit is ignored). */
  origin: number
  /** The message id (16 bytes): seeds the shuffle, so each message spreads the relaying load anew. */
  seed: Uint8Array
  /** 0: direct; otherwise the tree's growth per layer (2..255). */
  width: number
}

export interface FanoutLimits {
  /** Up to this many other members online: direct. */
  directMax: number
  /** The growth per layer the origin prefers. */
  fanout: number
  /** Copies one member sends, at most; the widest tree is floor((maxOutDegree − 1) / 2). */
  maxOutDegree: number
}

export interface FanoutPlan {
  width: number
  /** layers[0] = [origin]; then the members of each layer, in shuffled order. */
  layers: number[][]
  /** children[i]: the members member i sends to (empty for the last layer and for members outside the plan). */
  children: number[][]
  /** upstream[i]: the members member i receives from in the plan. */
  upstream: number[][]
}

export const MAX_WIDTH = 255

export function isOnline(bitmap: Uint8Array, index: number): boolean {
  return ((bitmap[index >> 3] ?? 0) & (0x80 >> (index & 7))) !== 0
}

/** The online bitmap of `count` members; `online(i)` says whether member i counts as online. */
export function onlineBitmap(count: number, online: (index: number) => boolean): Uint8Array {
  const bitmap = new Uint8Array(Math.ceil(count / 8))
  for (let i = 0; i < count; i++) if (online(i)) bitmap[i >> 3]! |= 0x80 >> (i & 7)
  return bitmap
}

/** Members layers 1..depth of a tree of growth g hold, at most. */
function capacity(g: number, depth: number): number {
  let total = 0
  let layer = 1
  for (let k = 1; k <= depth; k++) {
    layer *= g
    total += layer
  }
  return total
}

/**
 * The origin's choice of width for `others` online members besides itself:
 * direct up to directMax; otherwise the fewest layers the widest allowed tree
 * (floor((maxOutDegree − 1) / 2)) needs, then the narrowest growth ≥ fanout
 * that still fits in that many layers. So a tree is `fanout` wide unless
 * widening saves a layer — "wider when few are online".
 */
export function chooseWidth(others: number, limits: FanoutLimits): number {
  if (others <= limits.directMax) return 0
  const widest = Math.min(MAX_WIDTH, Math.floor((limits.maxOutDegree - 1) / 2))
  const narrowest = Math.min(limits.fanout, widest)
  let depth = 2
  while (capacity(widest, depth) < others) depth++
  let g = narrowest
  while (capacity(g, depth) < others) g++
  return g
}

/** xoshiro128** (Blackman and Vigna), state from the 16-byte seed read as four big-endian words. */
export function seededRandom(seed: Uint8Array): () => number {
  const view = new DataView(seed.buffer, seed.byteOffset, seed.byteLength)
  const s = [0, 4, 8, 12].map((at) => (at + 4 <= seed.length ? view.getUint32(at) : 0))
  if (!s.some((word) => word !== 0)) s[0] = 1 // the all-zero state never leaves zero
  const rotl = (x: number, k: number) => (x << k) | (x >>> (32 - k))
  return () => {
    const result = Math.imul(rotl(Math.imul(s[1]!, 5), 7), 9) >>> 0
    const t = s[1]! << 9
    s[2]! ^= s[0]!
    s[3]! ^= s[1]!
    s[1]! ^= s[2]!
    s[0]! ^= s[3]!
    s[2]! ^= t
    s[3] = rotl(s[3]!, 11)
    return result
  }
}

/** The online members other than the origin, ascending, then Fisher–Yates shuffled (j = next mod (i + 1)). */
function shuffledOnline(header: FanoutHeader): number[] {
  const list: number[] = []
  for (let i = 0; i < header.memberCount; i++)
    if (i !== header.origin && isOnline(header.online, i)) list.push(i)
  const next = seededRandom(header.seed)
  for (let i = list.length - 1; i > 0; i--) {
    const j = next() % (i + 1)
    ;[list[i], list[j]] = [list[j]!, list[i]!]
  }
  return list
}

function split(order: number[], width: number): number[][] {
  const layers: number[][] = []
  let at = 0
  let size = width
  while (at < order.length) {
    layers.push(order.slice(at, at + size))
    at += size
    size *= width
  }
  return layers
}

/**
 * Child j of a layer gets parents a = j mod P and b = (a + 1 + (row mod (P − 1))) mod P
 * of the P-member layer above, row = floor(j / P): two distinct members, and
 * each parent is `a` once and `b` at most once per row, so it has at most
 * 2 × ceil(C / P) ≤ 2g children.
 */
function parentsOf(j: number, parentCount: number): [number, number] {
  const a = j % parentCount
  const row = Math.floor(j / parentCount)
  return [a, (a + 1 + (row % (parentCount - 1))) % parentCount]
}

/** A header no plan exists for (an origin outside the member list, width 1 or over 255). */
export class FanoutPlanError extends ParanoimError {
  constructor(message: string) {
    super('FANOUT_PLAN', message)
  }
}

function checkHeader({ memberCount, origin, width }: FanoutHeader): void {
  if (!Number.isInteger(origin) || origin < 0 || origin >= memberCount)
    throw new FanoutPlanError(`origin ${origin} is not one of ${memberCount} members`)
  if (width === 1 || width > MAX_WIDTH || !Number.isInteger(width))
    throw new FanoutPlanError(`width ${width} is neither 0 (direct) nor 2..${MAX_WIDTH}`)
}

/** The whole plan: the definition, used by tests and docs; a forwarding member needs only childrenOf. */
export function fanoutPlan(header: FanoutHeader): FanoutPlan {
  checkHeader(header)
  const { memberCount, origin, width } = header
  const order = shuffledOnline(header)
  const children: number[][] = Array.from({ length: memberCount }, () => [])
  const upstream: number[][] = Array.from({ length: memberCount }, () => [])
  const link = (from: number, to: number) => {
    children[from]!.push(to)
    upstream[to]!.push(from)
  }
  const below = width === 0 ? [order] : split(order, width)
  const layers = [[origin], ...below.filter((layer) => layer.length > 0)]
  const first = layers[1] ?? []
  for (const member of first) link(origin, member)
  if (width !== 0 && first.length > 1)
    first.forEach((member, j) => {
      link(member, first[(j + 1) % first.length]!)
    })
  for (let k = 2; k < layers.length; k++) {
    const above = layers[k - 1]!
    layers[k]!.forEach((member, j) => {
      for (const p of parentsOf(j, above.length)) link(above[p]!, member)
    })
  }
  return { width, layers, children, upstream }
}

/** Where a tree member sits: its layer's start and full size in the shuffled order, its own offset, the layer's actual size. */
interface Place {
  order: number[]
  start: number
  size: number
  own: number
  layerSize: number
}

function place(order: number[], width: number, member: number): Place | undefined {
  const at = order.indexOf(member)
  if (width === 0 || at < 0) return undefined
  let start = 0
  let size = width
  while (at >= start + size) {
    start += size
    size *= width
  }
  return { order, start, size, own: at - start, layerSize: Math.min(size, order.length - start) }
}

/**
 * fanoutPlan(header).children[member], in the same order, without building
 * the whole plan: the shuffle, then only this member's ring neighbour and
 * its children in the next layer.
 */
export function childrenOf(header: FanoutHeader, member: number): number[] {
  checkHeader(header)
  const order = shuffledOnline(header)
  if (member === header.origin) return header.width === 0 ? order : order.slice(0, header.width)
  const at = place(order, header.width, member)
  if (!at) return []
  const { start, size, own, layerSize } = at
  const children: number[] = []
  if (start === 0 && layerSize > 1) children.push(order[(own + 1) % layerSize]!)
  const next = start + size
  for (let j = 0; next + j < order.length && j < size * header.width; j++)
    if (parentsOf(j, layerSize).includes(own)) children.push(order[next + j]!)
  return children
}

/** fanoutPlan(header).upstream[member], in the same order: who should send this member the packet. */
export function upstreamOf(header: FanoutHeader, member: number): number[] {
  checkHeader(header)
  const { origin, width } = header
  if (member === origin || !isOnline(header.online, member) || member >= header.memberCount) return []
  if (width === 0) return [origin]
  const { order, start, size, own, layerSize } = place(shuffledOnline(header), width, member)!
  if (start === 0) return layerSize > 1 ? [origin, order[(own + layerSize - 1) % layerSize]!] : [origin]
  const above = size / width
  return parentsOf(own, above).map((p) => order[start - above + p]!)
}

import type { Link } from '../net/link.js'
import type { RandomBytes } from '../net/udp-node.js'
import { isValidCircuitId } from '../wire/cell.js'

/**
 * Which circuit a (link, link-local circuit id) pair names, on one node. A
 * relay circuit appears twice (its previous and its next side); a circuit this
 * node built appears once (its first hop's link).
 */
export class CircuitTable<Slot> {
  readonly #byLink = new Map<Link, Map<number, Slot>>()

  get(link: Link, id: number): Slot | undefined {
    return this.#byLink.get(link)?.get(id)
  }

  set(link: Link, id: number, slot: Slot): void {
    let ids = this.#byLink.get(link)
    if (!ids) {
      ids = new Map()
      this.#byLink.set(link, ids)
    }
    ids.set(id, slot)
  }

  delete(link: Link, id: number): void {
    const ids = this.#byLink.get(link)
    if (!ids) return
    ids.delete(id)
    if (ids.size === 0) this.#byLink.delete(link)
  }

  /** A random id not yet used on `link` (chosen by whoever sends the CREATE). */
  allocate(link: Link, random: RandomBytes): number {
    for (;;) {
      const id = new DataView(random(4).buffer).getUint32(0)
      if (isValidCircuitId(id) && !this.#byLink.get(link)?.has(id)) return id
    }
  }

  /** Forgets every id on a link (it went down) and returns what they named. */
  takeLink(link: Link): Slot[] {
    const ids = this.#byLink.get(link)
    this.#byLink.delete(link)
    return ids ? [...ids.values()] : []
  }
}

/**
 * Sliding anti-replay window over 64-bit packet counters (RFC 6479's bitmap
 * of blocks): counters above the highest seen are new; counters more than
 * `size` below it are too old; the rest are looked up in the bitmap. Check
 * with `accepts` before decrypting and `record` only after the packet
 * authenticated, so forged packets cannot move the window.
 */
export class ReplayWindow {
  readonly size: number
  readonly #blocks: Uint32Array
  #highest = -1

  /** `size` is rounded up to a multiple of 32. */
  constructor(size: number) {
    const blocks = Math.ceil(size / 32)
    this.size = blocks * 32
    // One spare block so the whole window stays intact while the top block fills.
    this.#blocks = new Uint32Array(blocks + 1)
  }

  get highest(): number {
    return this.#highest
  }

  accepts(counter: number): boolean {
    if (counter > this.#highest) return true
    if (this.#highest - counter >= this.size) return false
    const block = this.#blocks[Math.floor(counter / 32) % this.#blocks.length]!
    return (block & (1 << (counter % 32))) === 0
  }

  record(counter: number): void {
    const length = this.#blocks.length
    if (counter > this.#highest) {
      const from = Math.floor(this.#highest / 32) + 1
      const to = Math.floor(counter / 32)
      for (let b = from, n = 0; b <= to && n < length; b++, n++) this.#blocks[b % length] = 0
      this.#highest = counter
    }
    this.#blocks[Math.floor(counter / 32) % length]! |= 1 << (counter % 32)
  }
}

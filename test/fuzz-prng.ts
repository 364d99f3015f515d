/** xorshift32: reproducible noise for the fuzz tests (FUZZ_SEED=… replays a run). `next(n)` is in [0, n). */
export function prng(seed: number): (n: number) => number {
  let x = seed >>> 0 || 1
  return (n) => {
    x ^= x << 13
    x >>>= 0
    x ^= x >>> 17
    x ^= x << 5
    x >>>= 0
    return x % n
  }
}

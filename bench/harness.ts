/**
 * `npm run bench`: every suite under bench/suites returns rows of figures; the
 * runner prints them as one table (or, with --json, one JSON object keyed
 * "suite.metric"). A row may carry a reference figure (another backend, another
 * server) to be read side by side.
 */
export interface BenchRow {
  metric: string
  value: number
  unit: string
  /** The same figure for a reference implementation, when one exists. */
  reference?: { label: string; value: number }
}

export interface BenchSuite {
  name: string
  run(): Promise<BenchRow[]>
}

/** Runs `fn` repeatedly for about `ms` milliseconds and returns operations per second. */
export async function opsPerSecond(fn: () => unknown, ms = 500): Promise<number> {
  for (let i = 0; i < 20; i++) await fn() // warm-up: JIT and lazy initialisation
  let ops = 0
  const start = performance.now()
  let elapsed = 0
  while (elapsed < ms) {
    for (let i = 0; i < 10; i++) await fn()
    ops += 10
    elapsed = performance.now() - start
  }
  return (ops * 1000) / elapsed
}

/** The p-th percentile (0–100) of samples, nearest-rank. */
export function percentile(samples: number[], p: number): number {
  if (samples.length === 0) return Number.NaN
  const sorted = [...samples].sort((a, b) => a - b)
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[rank]!
}

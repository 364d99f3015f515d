import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { formatTable } from '../bridge/text-table.js'
import type { BenchRow, BenchSuite } from './harness.js'

const dir = join(fileURLToPath(new URL('.', import.meta.url)), 'suites')
const json = process.argv.includes('--json')
const only = process.argv.slice(2).filter((a) => !a.startsWith('--'))

const fmt = (n: number) =>
  Number.isInteger(n) ? String(n) : n >= 100 ? n.toFixed(0) : n >= 1 ? n.toFixed(2) : n.toPrecision(3)

async function main(): Promise<void> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.ts')).sort()
  const results: { suite: string; row: BenchRow }[] = []
  for (const file of files) {
    const suite = (await import(join(dir, file))).default as BenchSuite
    if (only.length && !only.includes(suite.name)) continue
    if (!json) process.stderr.write(`running ${suite.name}…\n`)
    for (const row of await suite.run()) results.push({ suite: suite.name, row })
  }
  if (json) {
    const out: Record<string, number> = {}
    for (const { suite, row } of results) {
      out[`${suite}.${row.metric}`] = row.value
      if (row.reference) out[`${suite}.${row.metric}.${row.reference.label}`] = row.reference.value
    }
    process.stdout.write(`${JSON.stringify(out)}\n`)
    return
  }
  const table = results.map(({ suite, row }) => [
    suite,
    row.metric,
    fmt(row.value),
    row.unit,
    row.reference ? `${row.reference.label}: ${fmt(row.reference.value)}` : '',
    row.reference && row.reference.value !== 0 ? `×${fmt(row.value / row.reference.value)}` : '',
  ])
  console.log(formatTable(['suite', 'metric', 'value', 'unit', 'reference', 'ratio'], table))
}

await main()

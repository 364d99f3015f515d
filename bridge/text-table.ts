/**
 * A fixed-width text table: each column as wide as its widest cell, two spaces
 * between columns, no trailing blanks; with `rule`, a line of dashes under the
 * header. Used by the CLI, the testnet status and the bench.
 */
export function formatTable(header: string[], rows: string[][], { rule = true } = {}): string {
  const all = [header, ...rows]
  const widths = header.map((_, column) => Math.max(...all.map((row) => row[column]!.length)))
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column]!))
      .join('  ')
      .trimEnd()
  const lines = [line(header), ...(rule ? [line(widths.map((w) => '-'.repeat(w)))] : []), ...rows.map(line)]
  return lines.join('\n')
}

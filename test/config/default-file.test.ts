import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { parse } from 'smol-toml'
import { defaultConfig } from '../../bridge/config/schema.js'

const defaultToml = readFileSync(new URL('../../config/default.toml', import.meta.url), 'utf8')

test('config/default.toml holds exactly the built-in defaults, every key spelt out', () => {
  // Compared raw (not through the schema), so a key missing from the file fails too.
  const parsed = JSON.parse(JSON.stringify(parse(defaultToml)))
  assert.deepEqual(parsed, defaultConfig())
})

test('every key in config/default.toml has a comment right above it or after it', () => {
  const lines = defaultToml.split('\n')
  const bare = lines.flatMap((line, i) => {
    const isKey = /^\s*[A-Za-z0-9_-]+\s*=/.test(line)
    const commented = line.includes('#') || /^\s*#/.test(lines[i - 1] ?? '')
    return isKey && !commented ? [`line ${i + 1}: ${line.trim()}`] : []
  })
  assert.deepEqual(bare, [])
})

import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { test } from 'node:test'
import { promisify } from 'node:util'

// The "done when", checked with a real client: two Profanity (libstrophe) instances driven
// through tmux log in to a real bridge, accept its certificate by fingerprint, subscribe, chat, and get an
// offline message over direct TLS. scripts/ensure-system-deps.sh installs profanity and tmux.
test('Profanity: two accounts log in, subscribe, chat both ways and get offline messages', async () => {
  const run = await promisify(execFile)('bash', ['scripts/interop-profanity.sh'], { timeout: 120_000 }).catch(
    (err: { code?: number; stdout?: string; stderr?: string }) => err,
  )
  const output = `${run.stdout ?? ''}${run.stderr ?? ''}`
  assert.equal('code' in run ? run.code : 0, 0, output)
  assert.match(output, /interop-profanity: PASS/)
  assert.match(output, /ok: bob sees "Offline note for Bob"/)
})

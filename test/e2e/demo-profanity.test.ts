import assert from 'node:assert/strict'
import { execFile, execFileSync } from 'node:child_process'
import { test } from 'node:test'
import { promisify } from 'node:util'

/** The programs the script drives; scripts/ensure-system-deps.sh installs them. */
function missingPrograms(): string[] {
  return ['profanity', 'tmux'].filter((name) => {
    try {
      execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' })
      return false
    } catch {
      return true
    }
  })
}

const missing = missingPrograms()

// The "a Jabber client pointed at it chats through real onion tunnels": `paranoim demo` runs as the
// user would start it, and Profanity (libstrophe, driven through tmux) logs in with what the demo printed,
// accepts the certificate by fingerprint, sees the echo bot online, chats with it and gets a receipt.
test('Profanity logs in to `paranoim demo` and chats with the echo bot through onion tunnels', {
  skip: missing.length > 0 && `not installed: ${missing.join(', ')} (scripts/ensure-system-deps.sh)`,
}, async () => {
  const run = await promisify(execFile)('bash', ['scripts/interop-demo.sh'], { timeout: 150_000 }).catch(
    (err: { code?: number; stdout?: string; stderr?: string }) => err,
  )
  const output = `${run.stdout ?? ''}${run.stderr ?? ''}`
  assert.equal('code' in run ? run.code : 0, 0, output)
  assert.match(output, /interop-demo: PASS/)
  assert.match(output, /ok: you sees "echo: Hello from Profanity, héllo"/)
  assert.match(output, /ok: delivery receipt from the echo bot/)
  assert.match(output, /ok: the demo stopped on SIGINT \(exit 0\)/)
})

import assert from 'node:assert/strict'
import { execFile, execFileSync } from 'node:child_process'
import { test } from 'node:test'
import { promisify } from 'node:util'

/** The programs the script drives; scripts/ensure-system-deps.sh installs them. */
const missing = ['profanity', 'poezio', 'tmux', 'openssl'].filter((name) => {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' })
    return false
  } catch {
    return true
  }
})

// Group chat across two bridges with two different real clients (scripts/interop-poezio-muc.sh): alice in
// Profanity (libstrophe) on bridge A creates a room and invites bob (XEP-0249), bob in poezio (slixmpp) on
// bridge B joins the room JID his bridge shows; they talk, alice sets the subject, bob changes nick, alice
// kicks him with a reason — every step as seen on the clients' screens, over a private testnet.
test('Profanity on one bridge and poezio on another share a room: talk, subject, nick, kick', {
  skip: missing.length > 0 && `not installed: ${missing.join(', ')} (scripts/ensure-system-deps.sh)`,
}, async () => {
  const run = await promisify(execFile)('bash', ['scripts/interop-poezio-muc.sh'], {
    timeout: 120_000,
  }).catch((err: { code?: number; stdout?: string; stderr?: string }) => err)
  const output = `${run.stdout ?? ''}${run.stderr ?? ''}`
  assert.equal('code' in run ? run.code : 0, 0, output)
  assert.match(output, /interop-poezio-muc: PASS/)
  assert.match(output, /ok: bob is invited to [a-z2-7]{56}@conference\.paranoim\.localhost/)
  assert.match(output, /ok: each message is seen once on each side/)
  assert.match(output, /ok: alice sees "Bob is now known as Robert"/)
  assert.match(output, /ok: bob sees "You have been kicked by Alice Reason: too loud"/)
})

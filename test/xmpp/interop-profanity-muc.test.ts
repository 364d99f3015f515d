import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { test } from 'node:test'
import { promisify } from 'node:util'

// The MUC service with a real client: two Profanity (libstrophe) instances driven through tmux create a
// room (accepting the locked room's default configuration), talk in it, set the subject and kick.
test('Profanity: create a room, join, talk, subject, kick', async () => {
  const run = await promisify(execFile)('bash', ['scripts/interop-profanity-muc.sh'], {
    timeout: 120_000,
  }).catch((err: { code?: number; stdout?: string; stderr?: string }) => err)
  const output = `${run.stdout ?? ''}${run.stderr ?? ''}`
  assert.equal('code' in run ? run.code : 0, 0, output)
  assert.match(output, /interop-profanity-muc: PASS/)
  assert.match(output, /ok: alice sees her own message once/)
  assert.match(
    output,
    /ok: bob sees "Kicked from lounge@conference.paranoim.localhost by Alice, reason: too loud"/,
  )
})

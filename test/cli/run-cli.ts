import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'

export const MAIN = fileURLToPath(new URL('../../bridge/cli/main.ts', import.meta.url))

/** Cheap key derivation, quiet logs, and ephemeral ports: never 5222/5223/7070, which may be in use. */
export const FAST = [
  ...['--set', 'identity.kdf.logN=10', '--log-level', 'warn'],
  ...['--set', 'xmpp.port=0', '--set', 'xmpp.tlsPort=0', '--set', 'webui.port=0'],
]

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

/** Starts the real CLI as a child process (no terminal: stdin is a pipe). */
export function spawnCli(args: string[]) {
  return spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { stdio: 'pipe' })
}

/** Runs the real CLI to completion, feeding `input` on stdin. */
export async function runCli(args: string[], input = ''): Promise<CliResult> {
  const child = spawnCli(args)
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk) => {
    stdout += chunk
  })
  child.stderr.on('data', (chunk) => {
    stderr += chunk
  })
  child.stdin.end(input)
  const [code] = await once(child, 'close')
  return { code, stdout, stderr }
}

import { type ChildProcess, spawn } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { silentLogger } from '../../bridge/log.js'
import { projectPath } from '../../bridge/paths.js'
import { IdentityService } from '../../bridge/service/identities.js'
import { openStore } from '../../bridge/store/index.js'

/** Creates an identity in a (not running) bridge's data dir, with a cheap key derivation; returns its address. */
export async function createIdentity(dataDir: string, nickname: string, password: string): Promise<string> {
  const store = await openStore({ dataDir })
  try {
    const identities = new IdentityService({ store, kdf: { logN: 10, r: 8, p: 1 }, log: silentLogger })
    return (await identities.create(nickname, password)).address
  } finally {
    await store.close()
  }
}

export interface BridgeProcess {
  child: ChildProcess
  /** The STARTTLS port it bound. */
  port: number
  /** Its certificate (PEM), for the test clients to trust. */
  cert: string
  /** Everything it logged (JSON lines), for failure messages. */
  logs: string[]
  /** SIGKILL: no chance to flush or close anything (a crash or power cut). */
  kill(): Promise<void>
  stop(): Promise<void>
}

/**
 * `paranoim start` in its own process on the testnet (so a test can kill -9
 * it), with ephemeral ports; resolves once the XMPP server listens.
 */
export async function startBridgeProcess(dataDir: string, bootstrap: string, extra: string[] = []) {
  const args = [
    '--import',
    'tsx',
    projectPath('bridge', 'cli', 'main.ts'),
    'start',
    ...['--data-dir', dataDir, '--config', projectPath('config', 'testnet.toml'), '--log-level', 'info'],
    ...['--set', `dht.bootstrap=["${bootstrap}"]`, '--set', 'net.host="127.0.0.1"'],
    ...['--set', 'xmpp.port=0', '--set', 'xmpp.tlsPort=0', '--set', 'webui.enabled=false'],
    ...extra.flatMap((s) => ['--set', s]),
  ]
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  const logs: string[] = []
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const port = await new Promise<number>((resolve, reject) => {
    let buffer = ''
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString()
      let newline = buffer.indexOf('\n')
      while (newline >= 0) {
        const line = buffer.slice(0, newline)
        buffer = buffer.slice(newline + 1)
        logs.push(line)
        if (line.includes('XMPP server listening'))
          resolve((JSON.parse(line) as { starttls: number }).starttls)
        newline = buffer.indexOf('\n')
      }
    }
    child.stderr!.on('data', onData)
    child.stdout!.on('data', (chunk: Buffer) => logs.push(chunk.toString()))
    child.once('exit', (code) =>
      reject(new Error(`bridge exited (${code}) before listening:\n${logs.join('\n')}`)),
    )
  })
  const cert = await readFile(join(dataDir, 'tls', 'paranoim.localhost.crt'), 'utf8')
  return {
    child,
    port,
    cert,
    logs,
    async kill() {
      child.kill('SIGKILL')
      await exited
    },
    async stop() {
      child.kill('SIGTERM')
      await exited
    },
  } satisfies BridgeProcess
}

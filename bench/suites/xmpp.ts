/**
 * XMPP server figures: stanzas/s routed between two local accounts (with
 * p50/p99 latency, client and server on one machine) and the server's RSS with
 * 1,000 idle authenticated connections. The server runs in a child process so
 * its RSS is its own; when Debian's `prosody` is installed, the same figures
 * are measured for it (same clients, same certificate) as the reference.
 */
import { type ChildProcess, execFileSync, fork, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { RawClient } from '../../test/xmpp/raw-client.js'
import { type BenchRow, type BenchSuite, percentile } from '../harness.js'

const CHILD_FLAG = '--xmpp-bench-server'
const PASSWORD = 'bench password'
const MESSAGES = 10_000
const WINDOW = 200
const IDLE = 1000

interface Target {
  label: string
  port: number
  cert: string
  pid: number
  /** SCRAM mechanism both support. */
  mechanism: 'SCRAM-SHA-256' | 'SCRAM-SHA-1'
  stop(): Promise<void>
}

/** In the child: a real server over a real store with the bench accounts; reports its port and certificate. */
async function runServerChild(): Promise<void> {
  const { defaultConfig } = await import('../../bridge/config/schema.js')
  const { silentLogger } = await import('../../bridge/log.js')
  const { IdentityService } = await import('../../bridge/service/identities.js')
  const { openStore } = await import('../../bridge/store/index.js')
  const { createXmppServer } = await import('../../bridge/xmpp/server.js')
  const dataDir = await mkdtemp(join(tmpdir(), 'paranoim-bench-'))
  const base = defaultConfig()
  const config = {
    ...base,
    store: { dataDir },
    identity: { kdf: { logN: 10, r: 8, p: 1 } },
    xmpp: {
      ...base.xmpp,
      port: 0,
      directTls: false,
      limits: { ...base.xmpp.limits, maxConnectionsPerIp: 5000, maxResources: 5000, stanzasPerSecond: 1e9 },
    },
  }
  const store = await openStore({ dataDir })
  const identities = new IdentityService({ store, kdf: config.identity.kdf, log: silentLogger })
  for (const name of ['alice', 'bob', 'idle']) await identities.create(name, PASSWORD)
  const server = createXmppServer({ config, store, log: silentLogger })
  await server.start()
  const cert = await readFile(join(dataDir, 'tls', `${config.xmpp.domain}.crt`), 'utf8')
  process.send!({ port: server.ports().starttls, cert })
  process.once('message', async () => {
    await server.stop()
    await store.close()
    await rm(dataDir, { recursive: true, force: true })
    process.exit(0)
  })
}

async function startParanoim(): Promise<Target> {
  const child = fork(fileURLToPath(import.meta.url), [CHILD_FLAG], { execArgv: ['--import', 'tsx'] })
  const { port, cert } = await new Promise<{ port: number; cert: string }>((resolve, reject) => {
    child.once('message', (m) => resolve(m as { port: number; cert: string }))
    child.once('exit', (code) => reject(new Error(`bench server exited with ${code}`)))
  })
  return {
    label: 'paranoim',
    port,
    cert,
    pid: child.pid!,
    mechanism: 'SCRAM-SHA-256',
    stop: () => stopChild(child, true),
  }
}

async function stopChild(child: ChildProcess, ipc: boolean): Promise<void> {
  if (child.exitCode !== null) return
  const exited = new Promise((resolve) => child.once('exit', resolve))
  if (ipc) child.send('stop')
  else child.kill('SIGTERM')
  const killer = setTimeout(() => child.kill('SIGKILL'), 5000)
  await exited
  clearTimeout(killer)
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

/** Debian's prosody on a free port, in its own temp dir, with the same accounts and certificate. */
async function startProsody(): Promise<Target | undefined> {
  if (!existsSync('/usr/bin/prosody')) return undefined
  const cert = await prosodyCertificate()
  const dir = await mkdtemp(join(tmpdir(), 'paranoim-prosody-'))
  const port = await freePort()
  await writeFile(join(dir, 'cert.pem'), cert.pem)
  await writeFile(join(dir, 'key.pem'), cert.key, { mode: 0o600 })
  const configFile = join(dir, 'prosody.cfg.lua')
  await writeFile(
    configFile,
    `run_as_root = true
pidfile = "${dir}/prosody.pid"
data_path = "${dir}"
log = { error = "${dir}/error.log" }
c2s_ports = { ${port} }
c2s_interfaces = { "127.0.0.1" }
s2s_ports = { }
http_ports = { }
https_ports = { }
c2s_direct_tls_ports = { }
modules_enabled = { "roster", "saslauth", "tls", "ping", "disco", "posix" }
modules_disabled = { "s2s", "http" }
c2s_require_encryption = true
authentication = "internal_hashed"
ssl = { certificate = "${dir}/cert.pem", key = "${dir}/key.pem" }
VirtualHost "paranoim.localhost"
`,
  )
  for (const user of ['alice', 'bob', 'idle']) {
    execFileSync('prosodyctl', ['--config', configFile, 'register', user, 'paranoim.localhost', PASSWORD], {
      stdio: 'ignore',
    })
  }
  const child = spawn('prosody', ['--config', configFile, '-F'], { stdio: 'ignore' })
  for (let i = 0; i < 100; i++) {
    try {
      const probe = await RawClient.connect(port)
      probe.close()
      break
    } catch {
      await new Promise((r) => setTimeout(r, 100))
    }
  }
  return {
    label: 'prosody 0.12',
    port,
    cert: cert.pem,
    pid: child.pid!,
    mechanism: 'SCRAM-SHA-1',
    async stop() {
      await stopChild(child, false)
      await rm(dir, { recursive: true, force: true })
    },
  }
}

async function login(target: Target, user: string, resource: string): Promise<RawClient> {
  const client = await RawClient.connect(target.port)
  await client.login(target.cert, user, resource, target.mechanism, PASSWORD)
  return client
}

/** Messages alice → bob's full JID, WINDOW in flight; latency from send to receipt. */
async function throughput(target: Target): Promise<{ perSecond: number; p50: number; p99: number }> {
  const alice = await login(target, 'alice', 'bench')
  const bob = await login(target, 'bob', 'bench')
  const sentAt = new Map<string, number>()
  const latencies: number[] = []
  let sent = 0
  const started = performance.now()
  await new Promise<void>((resolve, reject) => {
    const deadline = setTimeout(() => reject(new Error(`${target.label}: messages lost or stuck`)), 60_000)
    const pump = () => {
      while (sent < MESSAGES && sentAt.size < WINDOW) {
        const id = `m${sent++}`
        sentAt.set(id, performance.now())
        alice.send(
          `<message to='bob@paranoim.localhost/bench' type='chat' id='${id}'><body>hello ${id}</body></message>`,
        )
      }
    }
    bob.onElement = (el) => {
      const at = sentAt.get(el.attrs.id ?? '')
      if (el.name !== 'message' || at === undefined) return
      latencies.push(performance.now() - at)
      sentAt.delete(el.attrs.id!)
      if (latencies.length < MESSAGES) return pump()
      clearTimeout(deadline)
      resolve()
    }
    pump()
  })
  const seconds = (performance.now() - started) / 1000
  alice.close()
  bob.close()
  return { perSecond: MESSAGES / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99) }
}

function rssMiB(pid: number): number {
  const status = execFileSync('cat', [`/proc/${pid}/status`], { encoding: 'utf8' })
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024
}

/** RSS growth of the server process with IDLE authenticated, bound connections. */
async function idleRss(target: Target): Promise<{ before: number; perConnectionKiB: number; total: number }> {
  const before = rssMiB(target.pid)
  const clients: RawClient[] = []
  for (let batch = 0; batch < IDLE; batch += 25) {
    clients.push(
      ...(await Promise.all(Array.from({ length: 25 }, (_, i) => login(target, 'idle', `r${batch + i}`)))),
    )
  }
  await new Promise((r) => setTimeout(r, 500))
  const total = rssMiB(target.pid)
  for (const client of clients) client.close()
  return { before, total, perConnectionKiB: ((total - before) * 1024) / IDLE }
}

async function measure(target: Target) {
  const flow = await throughput(target)
  const rss = await idleRss(target)
  return { flow, rss }
}

const suite: BenchSuite = {
  name: 'xmpp',
  async run() {
    const paranoim = await startParanoim()
    let ours: Awaited<ReturnType<typeof measure>>
    try {
      ours = await measure(paranoim)
    } finally {
      await paranoim.stop()
    }
    let reference: Awaited<ReturnType<typeof measure>> | undefined
    let label = ''
    const prosody = await startProsody()
    if (prosody) {
      label = prosody.label
      try {
        reference = await measure(prosody)
      } finally {
        await prosody.stop()
      }
    } else {
      process.stderr.write('xmpp: prosody is not installed (apt-get install prosody); no reference figures\n')
    }
    const ref = (value: number | undefined) =>
      reference && value !== undefined ? { reference: { label, value } } : {}
    const rows: BenchRow[] = [
      {
        metric: 'messages routed alice→bob',
        value: ours.flow.perSecond,
        unit: 'stanzas/s',
        ...ref(reference?.flow.perSecond),
      },
      {
        metric: 'latency p50 (200 in flight)',
        value: ours.flow.p50,
        unit: 'ms',
        ...ref(reference?.flow.p50),
      },
      {
        metric: 'latency p99 (200 in flight)',
        value: ours.flow.p99,
        unit: 'ms',
        ...ref(reference?.flow.p99),
      },
      {
        metric: `RSS with ${IDLE} idle sessions`,
        value: ours.rss.total,
        unit: 'MiB',
        ...ref(reference?.rss.total),
      },
      {
        metric: 'RSS per idle session',
        value: ours.rss.perConnectionKiB,
        unit: 'KiB',
        ...ref(reference?.rss.perConnectionKiB),
      },
    ]
    return rows
  },
}

/** A self-signed certificate and key for the domain, as our server makes, for Prosody. */
async function prosodyCertificate(): Promise<{ pem: string; key: string }> {
  const { generate } = await import('selfsigned')
  const pems = await generate([{ name: 'commonName', value: 'paranoim.localhost' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'paranoim.localhost' }] }],
  })
  return { pem: pems.cert, key: pems.private }
}

if (process.argv.includes(CHILD_FLAG)) await runServerChild()

export default suite

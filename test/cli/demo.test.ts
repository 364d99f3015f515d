import assert from 'node:assert/strict'
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process'
import { X509Certificate } from 'node:crypto'
import { once } from 'node:events'
import { readdir, readFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { type Element, createElement as xml } from 'ltx'
import { HELP_TEXT } from '../../bridge/cli/demo/echo-bot.js'
import { tempDir } from '../store/helpers.js'
import { login, type TestClient, trustCertificate } from '../xmpp/client.js'
import { FAST, MAIN } from './run-cli.js'

const RECEIPTS = 'urn:xmpp:receipts'
/** Starting a 12-node testnet and two bridges on a loaded 2-core machine. */
const READY_MS = 60_000
/** One message each way through onion tunnels. */
const ANSWER_MS = 30_000

/** What `paranoim demo` prints for the user, parsed back. */
interface DemoInfo {
  jid: string
  password: string
  host: string
  port: number
  directTlsPort: number
  sha256: string
  contactName: string
  contactJid: string
  webUi: string
  dataDir: string
}

interface Demo {
  info: DemoInfo
  stderr(): string
  /** SIGINT (Ctrl-C); resolves with the exit code. */
  interrupt(): Promise<number | null>
}

function field(out: string, label: string): string {
  const match = out.match(new RegExp(`^ {2}${label} +(.+)$`, 'm'))
  assert.ok(match, `no "${label}" line in:\n${out}`)
  return match[1]!
}

function parseInfo(out: string): DemoInfo {
  const ports = field(out, 'port').match(/^(\d+) \(STARTTLS\), (\d+) \(direct TLS\)$/)
  const contact = field(out, 'contact').match(/^(.+): (\S+)$/)
  const dataDir = out.match(/^Data \(deleted when the demo stops\): (.+)$/m)
  assert.ok(ports && contact && dataDir, out)
  return {
    jid: field(out, 'JID'),
    password: field(out, 'password'),
    host: field(out, 'host'),
    port: Number(ports[1]),
    directTlsPort: Number(ports[2]),
    sha256: field(out, 'certificate SHA-256').trim(),
    contactName: contact[1]!,
    contactJid: contact[2]!,
    webUi: field(out, 'web UI').split(' ')[0]!,
    dataDir: dataDir[1]!,
  }
}

/** `paranoim demo` as a real process, its temp dirs under `tmp`. */
function spawnDemo(tmp: string, extra: string[] = []): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, ['--import', 'tsx', MAIN, 'demo', ...FAST, ...extra], {
    stdio: 'pipe',
    env: { ...process.env, TMPDIR: tmp },
  })
}

/** Resolves once the demo printed the connection block. */
async function startDemo(tmp: string, extra: string[] = []): Promise<Demo> {
  const child = spawnDemo(tmp, extra)
  let stdout = ''
  let stderr = ''
  child.stderr.on('data', (chunk) => {
    stderr += chunk
  })
  const exited = once(child, 'exit').then(([code]) => code as number | null)
  const printed = new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      stdout += chunk
      if (stdout.includes('Stop with Ctrl-C.')) resolve(stdout)
    })
    void exited.then((code) => reject(new Error(`demo exited (${code}):\n${stdout}\n${stderr}`)))
  })
  const timer = setTimeout(() => child.kill('SIGKILL'), READY_MS)
  try {
    const info = parseInfo(await printed)
    return {
      info,
      stderr: () => stderr,
      async interrupt() {
        child.kill('SIGINT')
        return exited
      },
    }
  } finally {
    clearTimeout(timer)
  }
}

/** Logs in as the printed user after checking the certificate is the one whose fingerprint was printed. */
async function connect(info: DemoInfo): Promise<TestClient> {
  const cert = await readFile(join(info.dataDir, 'you', 'tls', 'paranoim.localhost.crt'), 'utf8')
  assert.equal(new X509Certificate(cert).fingerprint256, info.sha256)
  trustCertificate(cert, info.port)
  const [username] = info.jid.split('@')
  const client = await login(info.port, username!, { password: info.password, resource: 'test' })
  await client.xmpp.send(xml('presence'))
  return client
}

function chat(to: string, body: string, id: string): Element {
  return xml('message', { to, type: 'chat', id }, xml('body').t(body), xml('request', { xmlns: RECEIPTS }))
}

/** Sends `body` to the bot; resolves with its answer's text once the receipt for `id` came too. */
async function ask(client: TestClient, bot: string, body: string, id: string): Promise<string> {
  await client.xmpp.send(chat(bot, body, id))
  const fromBot = (s: Element) => s.is('message') && s.attrs.from?.split('/')[0] === bot
  await client.next((s) => fromBot(s) && s.getChild('received', RECEIPTS)?.attrs.id === id, ANSWER_MS)
  const answer = await client.next((s) => fromBot(s) && s.getChildText('body') !== null, ANSWER_MS)
  return answer.getChildText('body')!
}

/** The demo's data dirs under `tmp` (tsx keeps its cache there too). */
const demoDirs = async (tmp: string) =>
  (await readdir(tmp)).filter((name) => name.startsWith('paranoim-demo-'))

describe('paranoim demo (a real process, ephemeral ports)', () => {
  it('prints what a client needs; the echo bot is a contact and answers through the network; Ctrl-C cleans up', async () => {
    const tmp = await tempDir('paranoim-demo-test-')
    const demo = await startDemo(tmp)
    let client: TestClient | undefined
    let code: number | null = null
    try {
      const { info } = demo
      assert.equal(info.jid, 'you@paranoim.localhost')
      assert.equal(info.host, '127.0.0.1')
      assert.ok(info.port > 0 && info.directTlsPort > 0 && info.port !== info.directTlsPort)
      assert.equal(info.contactName, 'Echo bot')
      // Progress came before the block, on stderr.
      assert.match(demo.stderr(), /private network of 12 nodes[\s\S]*Tunnels up/)
      assert.equal((await fetch(info.webUi)).status, 200)

      client = await connect(info)
      const roster = await client.xmpp.iqCaller.request(
        xml('iq', { type: 'get' }, xml('query', { xmlns: 'jabber:iq:roster' })),
      )
      const items = roster.getChild('query')!.getChildren('item')
      assert.deepEqual(
        items.map((item) => ({ ...item.attrs })),
        [{ jid: info.contactJid, name: 'Echo bot', subscription: 'both' }],
      )
      const presence = await client.next(
        (s) => s.is('presence') && s.attrs.from?.split('/')[0] === info.contactJid,
        ANSWER_MS,
      )
      assert.equal(presence.attrs.type, undefined, `the bot is available: ${presence}`)

      assert.equal(await ask(client, info.contactJid, 'help', 'm1'), HELP_TEXT)
      assert.equal(await ask(client, info.contactJid, 'héllo 😀', 'm2'), 'echo: héllo 😀')
    } finally {
      await client?.stop()
      code = await demo.interrupt()
    }
    assert.equal(code, 0, demo.stderr())
    assert.match(demo.stderr(), /SIGINT: stopping/)
    assert.deepEqual(await demoDirs(tmp), [], `${demo.info.dataDir} is deleted`)
  })

  it('picks another port when the preferred one is taken', async () => {
    const taken = createServer()
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve))
    const port = (taken.address() as { port: number }).port
    const demo = await startDemo(await tempDir('paranoim-demo-test-'), [
      '--nodes',
      '8',
      '--set',
      `xmpp.port=${port}`,
    ])
    let client: TestClient | undefined
    let code: number | null = null
    try {
      assert.notEqual(demo.info.port, port)
      client = await connect(demo.info)
      assert.equal(await ask(client, demo.info.contactJid, 'still here?', 'p1'), 'echo: still here?')
    } finally {
      await client?.stop()
      taken.close()
      code = await demo.interrupt()
    }
    assert.equal(code, 0, demo.stderr())
  })

  it('Ctrl-C while the tunnels come up stops it cleanly too', async () => {
    const tmp = await tempDir('paranoim-demo-test-')
    const child = spawnDemo(tmp, ['--nodes', '8'])
    let stderr = ''
    const exited = once(child, 'exit')
    const startingBridges = new Promise<void>((resolve) =>
      child.stderr.on('data', (chunk) => {
        stderr += chunk
        if (stderr.includes('Starting your bridge')) resolve()
      }),
    )
    await Promise.race([startingBridges, exited.then(() => assert.fail(`exited early:\n${stderr}`))])
    child.kill('SIGINT')
    const [code] = await exited
    assert.equal(code, 0, stderr)
    assert.match(stderr, /SIGINT: stopping/)
    assert.deepEqual(await demoDirs(tmp), [], 'the data dir is deleted')
  })
})

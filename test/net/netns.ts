import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

/**
 * A throw-away multi-host lab in Linux network namespaces: N "hosts", each a
 * namespace with one veth interface, all plugged into a bridge that lives in a
 * "hub" namespace of its own. Addresses are 10.77.<run>.<i+1>/24 and exist only
 * inside these namespaces: nothing is routed to or from the real network.
 * Names carry a random run id, so concurrent runs never collide, and
 * `destroy()` (always call it in a finally block) removes every namespace,
 * which takes their interfaces and the processes' sockets with them.
 *
 *     const lab = await createNetnsLab({ hosts: 5 })
 *     try {
 *       const p = lab.hosts[0].spawnNode('test/net/netns-node.ts')
 *       await lab.hosts[3].cut()  …  await lab.hosts[3].restore()
 *     } finally { await lab.destroy() }
 */
const run = promisify(execFile)
const ROOT = fileURLToPath(new URL('../..', import.meta.url))

export interface NetnsCapability {
  available: boolean
  /** Why not, when not (for the test output and the README). */
  reason: string
}

export class NetnsUnavailableError extends Error {
  constructor(readonly reason: string) {
    super(`network namespaces are not available here: ${reason}`)
    this.name = 'NetnsUnavailableError'
  }
}

async function ip(...args: string[]): Promise<void> {
  await run('ip', args)
}

/** Tries the real thing (create and delete a namespace): only that proves we may. */
export async function probeNetns(): Promise<NetnsCapability> {
  if (process.platform !== 'linux')
    return { available: false, reason: `platform is ${process.platform}, not linux` }
  if (process.getuid?.() !== 0)
    return { available: false, reason: 'not running as root (ip netns needs CAP_SYS_ADMIN)' }
  const name = `pim-probe-${randomBytes(3).toString('hex')}`
  try {
    await ip('netns', 'add', name)
  } catch (error) {
    const detail = (error as { stderr?: string; message: string }).stderr?.trim() || (error as Error).message
    return { available: false, reason: `ip netns add failed: ${detail}` }
  }
  try {
    await ip('-n', name, 'link', 'add', 'br0', 'type', 'bridge')
  } catch (error) {
    return { available: false, reason: `no bridge interfaces: ${(error as Error).message}` }
  } finally {
    await ip('netns', 'del', name).catch(() => undefined)
  }
  return { available: true, reason: '' }
}

export interface NetnsHost {
  index: number
  /** The namespace's name (for `ip -n`). */
  namespace: string
  address: string
  /** Pulls the host's cable: its port on the hub's bridge goes down. */
  cut(): Promise<void>
  /** Plugs it back in. */
  restore(): Promise<void>
  /** `node --import tsx <script> …args` inside the namespace, stdio piped. Killed by destroy(). */
  spawnNode(script: string, args?: string[]): ChildProcess
}

export interface NetnsLab {
  runId: string
  hosts: NetnsHost[]
  destroy(): Promise<void>
}

export async function createNetnsLab(options: { hosts: number }): Promise<NetnsLab> {
  const capability = await probeNetns()
  if (!capability.available) throw new NetnsUnavailableError(capability.reason)
  const runByte = randomBytes(1)[0]!
  const runId = `${process.pid.toString(36)}${randomBytes(2).toString('hex')}`
  const hub = `pim-${runId}-hub`
  const namespaces: string[] = []
  const processes: ChildProcess[] = []
  const lab: NetnsLab = {
    runId,
    hosts: [],
    async destroy() {
      for (const child of processes) if (child.exitCode === null) child.kill('SIGKILL')
      for (const ns of namespaces.reverse()) await ip('netns', 'del', ns).catch(() => undefined)
    },
  }
  try {
    await ip('netns', 'add', hub)
    namespaces.push(hub)
    await ip('-n', hub, 'link', 'add', 'br0', 'type', 'bridge')
    await ip('-n', hub, 'link', 'set', 'br0', 'up')
    for (let i = 0; i < options.hosts; i++) {
      const namespace = `pim-${runId}-h${i}`
      const address = `10.77.${runByte}.${i + 1}`
      const port = `vh${i}`
      await ip('netns', 'add', namespace)
      namespaces.push(namespace)
      await ip('-n', hub, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', namespace)
      await ip('-n', hub, 'link', 'set', port, 'master', 'br0', 'up')
      await ip('-n', namespace, 'addr', 'add', `${address}/24`, 'dev', 'eth0')
      await ip('-n', namespace, 'link', 'set', 'eth0', 'up')
      await ip('-n', namespace, 'link', 'set', 'lo', 'up')
      lab.hosts.push({
        index: i,
        namespace,
        address,
        cut: () => ip('-n', hub, 'link', 'set', port, 'down'),
        restore: () => ip('-n', hub, 'link', 'set', port, 'up'),
        spawnNode(script, args = []) {
          const child = spawn(
            'ip',
            ['netns', 'exec', namespace, process.execPath, '--import', 'tsx', script, ...args],
            {
              cwd: ROOT,
              stdio: ['pipe', 'pipe', 'inherit'],
            },
          )
          processes.push(child)
          return child
        },
      })
    }
    return lab
  } catch (error) {
    await lab.destroy()
    throw error
  }
}

/**
 * JSON lines on a child's stdout as a stream of events, and a way to wait for
 * the first one matching a predicate (the host scripts speak this way).
 */
export class JsonLines<T> {
  readonly events: T[] = []
  #waiters: { match: (e: T) => boolean; resolve: (e: T) => void }[] = []

  constructor(readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let event: T
      try {
        event = JSON.parse(line) as T
      } catch {
        return // not ours (a stray log line)
      }
      this.events.push(event)
      const matched = this.#waiters.filter((w) => w.match(event))
      this.#waiters = this.#waiters.filter((w) => !matched.includes(w))
      for (const waiter of matched) waiter.resolve(event)
    })
  }

  send(command: unknown): void {
    this.child.stdin!.write(`${JSON.stringify(command)}\n`)
  }

  /** The first event (already seen or still to come) that matches; rejects after `ms`. */
  next(match: (e: T) => boolean, ms = 10_000, after = 0): Promise<T> {
    const seen = this.events.slice(after).find(match)
    if (seen) return Promise.resolve(seen)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching event within ${ms} ms`)), ms)
      this.#waiters.push({
        match,
        resolve: (e) => {
          clearTimeout(timer)
          resolve(e)
        },
      })
    })
  }
}

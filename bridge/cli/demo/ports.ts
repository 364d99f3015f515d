import { createServer } from 'node:net'

/**
 * `preferred` when nothing listens there on `host`, else a free port chosen by
 * the system (the demo must start even when 5222 or 7070 is taken).
 */
export function freePort(host: string, preferred: number): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer()
    probe.once('error', () => resolve(0))
    probe.listen(preferred, host, () => probe.close(() => resolve(preferred)))
  })
}

/** Waits for SIGINT or SIGTERM, keeping the process alive even when nothing else does. */
export function nextSignal(signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM']): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const keepAlive = setInterval(() => {}, 2 ** 30)
    const handler = (signal: NodeJS.Signals) => {
      clearInterval(keepAlive)
      for (const s of signals) process.off(s, handler)
      resolve(signal)
    }
    for (const s of signals) process.on(s, handler)
  })
}

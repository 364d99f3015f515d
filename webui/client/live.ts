import type { LiveUpdate } from '../shared/api-types.js'

/** Follows the bridge's status stream (Server-Sent Events); the browser reconnects by itself. */
export function followStatus(onUpdate: (update: LiveUpdate) => void, onLost?: () => void): void {
  const events = new EventSource('/api/status/stream')
  events.addEventListener('status', (event) => onUpdate(JSON.parse((event as MessageEvent<string>).data)))
  if (onLost) events.addEventListener('error', onLost)
}

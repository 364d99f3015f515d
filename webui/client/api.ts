import type { ApiErrorBody, SessionInfo } from '../shared/api-types.js'

/** A refusal from the bridge, with its specific code and message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}

let csrfToken = ''

export async function loadSession(): Promise<SessionInfo> {
  const info = await api<SessionInfo>('GET', '/api/session')
  csrfToken = info.csrfToken
  return info
}

/** JSON over same-origin fetch; every state-changing call carries the session's CSRF token. */
export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' }
  if (method !== 'GET') headers['x-csrf-token'] = csrfToken
  if (body !== undefined) headers['content-type'] = 'application/json'
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
  })
  const json = (await res.json().catch(() => null)) as unknown
  if (!res.ok) {
    const err = (json as ApiErrorBody | null)?.error
    throw new ApiError(res.status, err?.code ?? 'HTTP_' + res.status, err?.message ?? res.statusText)
  }
  return json as T
}

export function toBase64(bytes: Uint8Array): string {
  let s = ''
  for (const b of bytes) s += String.fromCharCode(b)
  return btoa(s)
}

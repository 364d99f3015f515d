import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { allowedHostHeaders } from '../../webui/server/request-guard.js'
import { SessionStore } from '../../webui/server/sessions.js'

describe('session store', () => {
  it('ends a session after the idle time, and use keeps it alive', () => {
    let now = 0
    const store = new SessionStore({ idleMs: 1000, maxSessions: 10, clock: () => now })
    const s = store.create('alice')
    now = 900
    assert.equal(store.get(s.id)?.nickname, 'alice')
    now = 1800 // 900 ms after the last use
    assert.ok(store.isLive(s.id))
    assert.equal(store.get(s.id)?.nickname, 'alice')
    now = 2801
    assert.equal(store.isLive(s.id), false)
    assert.equal(store.get(s.id), undefined)
    assert.equal(store.get(undefined), undefined)
  })

  it('drops the least recently used session when full; ids and CSRF tokens are fresh and distinct', () => {
    const store = new SessionStore({ idleMs: 60_000, maxSessions: 10 })
    const sessions = Array.from({ length: 10 }, () => store.create(null))
    store.get(sessions[0]!.id) // used: now the most recent
    store.create('bob')
    assert.ok(store.get(sessions[0]!.id), 'recently used session kept')
    assert.equal(store.get(sessions[1]!.id), undefined, 'least recently used session dropped')
    const secrets = new Set(sessions.flatMap((s) => [s.id, s.csrfToken]))
    assert.equal(secrets.size, 20)
    assert.ok(sessions.every((s) => Buffer.from(s.id, 'base64url').length === 32))
  })

  it('destroys a session', () => {
    const store = new SessionStore({ idleMs: 60_000, maxSessions: 10 })
    const s = store.create('alice')
    store.destroy(s.id)
    assert.equal(store.get(s.id), undefined)
  })
})

describe('allowed Host headers', () => {
  it('are the loopback names and configured names with the port; bare only on the default port', () => {
    assert.deepEqual(
      [...allowedHostHeaders(['paranoim.home'], 7070, false)],
      ['127.0.0.1:7070', 'localhost:7070', '[::1]:7070', 'paranoim.home:7070'],
    )
    const https = allowedHostHeaders(['paranoim.home'], 443, true)
    assert.ok(https.has('paranoim.home') && https.has('paranoim.home:443') && https.has('localhost'))
    assert.equal(allowedHostHeaders([], 80, true).has('localhost'), false)
  })
})

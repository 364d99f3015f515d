import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { type IncomingMessage, request } from 'node:http'
import { get as httpsGet } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { after, before, describe, it } from 'node:test'
import { ConfigError } from '../../bridge/config/errors.js'
import { validateConfig } from '../../bridge/config/load.js'
import { encodeAddress, generateIdentity, nobleBackend, sealPrivateKey } from '../../bridge/crypto/index.js'
import { createLogger } from '../../bridge/log.js'
import { loadCertificate } from '../../bridge/xmpp/certificate.js'
import { resolveWebUiOptions } from '../../webui/server/options.js'
import { startWebUi } from '../../webui/server/server.js'
import type { IdentityState, LiveUpdate } from '../../webui/shared/api-types.js'
import { startTestBridge, type TestBridge } from './helpers.js'

/** A raw HTTP GET with any headers (fetch sets Host and Sec-Fetch-* itself). */
function rawGet(
  origin: string,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${origin}${path}`, { headers }, (res) => {
      let body = ''
      res.on('data', (chunk) => {
        body += chunk
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

interface Visitor {
  cookie: string
  csrfToken: string
}

async function visit(t: TestBridge): Promise<Visitor> {
  const res = await fetch(`${t.origin}/api/session`)
  const cookie = res.headers.getSetCookie()[0]!.split(';')[0]!
  const { csrfToken } = (await res.json()) as { csrfToken: string }
  return { cookie, csrfToken }
}

async function post(
  t: TestBridge,
  path: string,
  body: unknown,
  headers: Record<string, string>,
): Promise<{ status: number; code: string | undefined; json: Record<string, unknown> }> {
  const res = await fetch(`${t.origin}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  })
  const json = (await res.json()) as Record<string, unknown>
  return { status: res.status, code: (json.error as { code?: string } | undefined)?.code, json }
}

/** Logs the visitor in as `nickname`: the new session, with its CSRF token. */
async function logIn(t: TestBridge, nickname: string, v?: Visitor): Promise<Visitor> {
  v ??= await visit(t)
  const res = await fetch(`${t.origin}/api/session/login`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      cookie: v.cookie,
      origin: t.origin,
      'x-csrf-token': v.csrfToken,
    },
    body: JSON.stringify({ nickname, password: PASSWORD }),
  })
  assert.equal(res.status, 200)
  const cookie = res.headers.getSetCookie()[0]!.split(';')[0]!
  const session = await fetch(`${t.origin}/api/session`, { headers: { cookie } })
  return { cookie, csrfToken: ((await session.json()) as { csrfToken: string }).csrfToken }
}

const PASSWORD = 'correct horse battery'
const ADMIN_PASSWORD = 'admin password for tests'
const MAX_ATTEMPTS = 5

async function sealedKeyBase64(): Promise<string> {
  const blob = await sealPrivateKey(generateIdentity(), PASSWORD, { logN: 10, r: 8, p: 1 }, nobleBackend)
  return Buffer.from(blob).toString('base64')
}

describe('web UI security', () => {
  let t: TestBridge
  before(async () => {
    t = await startTestBridge({
      webui: {
        adminPassword: ADMIN_PASSWORD,
        login: { maxAttempts: MAX_ATTEMPTS, windowSeconds: 60 },
      },
    })
  })
  after(() => t.stop())

  it('refuses a foreign Host header (DNS rebinding) with 421', async () => {
    const refused = await rawGet(t.origin, '/api/session', { host: `evil.example:${t.webui.port}` })
    assert.equal(refused.status, 421)
    assert.match(refused.body, /HOST_REFUSED/)
    const page = await rawGet(t.origin, '/', { host: `attacker.test:${t.webui.port}` })
    assert.equal(page.status, 421)
    for (const ok of [`127.0.0.1:${t.webui.port}`, `localhost:${t.webui.port}`]) {
      assert.equal((await rawGet(t.origin, '/api/session', { host: ok })).status, 200, ok)
    }
  })

  it('refuses a foreign Origin, and a state change without any Origin, with 403', async () => {
    const v = await visit(t)
    const base = { cookie: v.cookie, 'x-csrf-token': v.csrfToken }
    const foreign = await post(
      t,
      '/api/session/login',
      { nickname: 'a', password: 'b' },
      {
        ...base,
        origin: 'http://evil.example',
      },
    )
    assert.deepEqual([foreign.status, foreign.code], [403, 'ORIGIN_REFUSED'])
    const otherPort = await post(
      t,
      '/api/session/login',
      { nickname: 'a', password: 'b' },
      {
        ...base,
        origin: 'http://127.0.0.1:1',
      },
    )
    assert.deepEqual([otherPort.status, otherPort.code], [403, 'ORIGIN_REFUSED'])
    const none = await post(t, '/api/session/login', { nickname: 'a', password: 'b' }, base)
    assert.deepEqual([none.status, none.code], [403, 'ORIGIN_MISSING'])
    const crossSite = await post(
      t,
      '/api/session/login',
      { nickname: 'a', password: 'b' },
      {
        ...base,
        origin: t.origin,
        'sec-fetch-site': 'cross-site',
      },
    )
    assert.deepEqual([crossSite.status, crossSite.code], [403, 'CROSS_SITE_REFUSED'])
    const fetchMetadata = (mode: string, dest: string) => ({
      'sec-fetch-site': 'cross-site',
      'sec-fetch-mode': mode,
      'sec-fetch-dest': dest,
    })
    const linkFollowed = await rawGet(t.origin, '/', fetchMetadata('navigate', 'document'))
    assert.equal(linkFollowed.status, 200, 'following a link to a page from elsewhere works')
    const apiNavigated = await fetch(`${t.origin}/api/session`, {
      headers: fetchMetadata('navigate', 'document'),
    })
    assert.equal(apiNavigated.status, 403, 'the API is never reachable cross-site')
    const embedded = await rawGet(t.origin, '/', fetchMetadata('navigate', 'iframe'))
    assert.equal(embedded.status, 403, 'no framing from elsewhere')
  })

  it('refuses a state change without the CSRF token, or with another session’s', async () => {
    const v = await visit(t)
    const other = await visit(t)
    const missing = await post(
      t,
      '/api/session/login',
      { nickname: 'a', password: 'b' },
      {
        cookie: v.cookie,
        origin: t.origin,
      },
    )
    assert.deepEqual([missing.status, missing.code], [403, 'CSRF_TOKEN_MISSING'])
    const wrong = await post(
      t,
      '/api/session/login',
      { nickname: 'a', password: 'b' },
      {
        cookie: v.cookie,
        origin: t.origin,
        'x-csrf-token': other.csrfToken,
      },
    )
    assert.deepEqual([wrong.status, wrong.code], [403, 'CSRF_TOKEN_INVALID'])
    const noCookie = await post(
      t,
      '/api/session/login',
      { nickname: 'a', password: 'b' },
      {
        origin: t.origin,
        'x-csrf-token': v.csrfToken,
      },
    )
    assert.deepEqual([noCookie.status, noCookie.code], [403, 'CSRF_TOKEN_INVALID'])
  })

  it('answers 401 without a session, and serves strict security headers', async () => {
    for (const path of [
      '/api/account',
      '/api/bindings',
      '/api/contacts',
      '/api/status',
      '/api/bindings/export',
    ]) {
      const res = await fetch(`${t.origin}${path}`)
      assert.equal(res.status, 401, path)
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'NOT_LOGGED_IN')
    }
    const page = await fetch(`${t.origin}/`)
    const csp = page.headers.get('content-security-policy') ?? ''
    assert.match(csp, /default-src 'self'/)
    assert.match(csp, /script-src 'self'(;|$)/)
    assert.match(csp, /frame-ancestors 'none'/)
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/)
    assert.equal(page.headers.get('x-content-type-options'), 'nosniff')
    assert.doesNotMatch(await page.text(), /<script>|style=/, 'no inline script or style in pages')
  })

  it('lets the first identity be created without login; afterwards a login or the admin password', async () => {
    const v = await visit(t)
    const headers = { cookie: v.cookie, origin: t.origin, 'x-csrf-token': v.csrfToken }
    const create = async (nickname: string, h: Record<string, string>, extra = {}) =>
      post(
        t,
        '/api/identities',
        { nickname, sealedKey: await sealedKeyBase64(), password: PASSWORD, ...extra },
        h,
      )
    const first = await create('first', headers)
    assert.equal(first.status, 201, JSON.stringify(first.json))

    const stranger = await visit(t)
    const strangerHeaders = { cookie: stranger.cookie, origin: t.origin, 'x-csrf-token': stranger.csrfToken }
    const second = await create('second', strangerHeaders)
    assert.deepEqual([second.status, second.code], [401, 'NOT_LOGGED_IN'])
    const wrongAdmin = await create('second', strangerHeaders, { adminPassword: 'not the admin password' })
    assert.deepEqual([wrongAdmin.status, wrongAdmin.code], [403, 'ADMIN_PASSWORD_WRONG'])
    const withAdmin = await create('second', strangerHeaders, { adminPassword: ADMIN_PASSWORD })
    assert.equal(withAdmin.status, 201, JSON.stringify(withAdmin.json))
    assert.deepEqual(
      (await t.bridge.identities.list()).map((i) => i.nickname),
      ['first', 'second'],
    )
  })

  it('rotates the session id at login; the old id is not logged in', async () => {
    const v = await visit(t)
    const fresh = (await logIn(t, 'first', v)).cookie
    assert.notEqual(fresh, v.cookie)
    assert.equal((await fetch(`${t.origin}/api/account`, { headers: { cookie: v.cookie } })).status, 401)
    const account = await fetch(`${t.origin}/api/account`, { headers: { cookie: fresh } })
    assert.equal(account.status, 200)
    assert.equal(((await account.json()) as { nickname: string }).nickname, 'first')
  })

  it('refuses contact changes without a login, the CSRF token or our Origin', async () => {
    const friend = encodeAddress(generateIdentity().publicKey)
    assert.equal((await fetch(`${t.origin}/api/contacts`)).status, 401)
    const user = await logIn(t, 'first')
    const visitor = await visit(t)
    const refusals: [Record<string, string>, number, string][] = [
      [{ cookie: user.cookie, origin: t.origin }, 403, 'CSRF_TOKEN_MISSING'],
      [
        { cookie: user.cookie, origin: t.origin, 'x-csrf-token': visitor.csrfToken },
        403,
        'CSRF_TOKEN_INVALID',
      ],
      [
        { cookie: user.cookie, origin: 'http://evil.example', 'x-csrf-token': user.csrfToken },
        403,
        'ORIGIN_REFUSED',
      ],
      [{ cookie: user.cookie, 'x-csrf-token': user.csrfToken }, 403, 'ORIGIN_MISSING'],
      [{ cookie: visitor.cookie, origin: t.origin, 'x-csrf-token': visitor.csrfToken }, 401, 'NOT_LOGGED_IN'],
    ]
    for (const path of ['/api/contacts/request', '/api/contacts/approve', '/api/contacts/deny']) {
      const body = path.endsWith('request') ? { address: friend, text: 'hi' } : { address: friend }
      for (const [headers, status, code] of refusals) {
        const res = await post(t, path, body, headers)
        assert.deepEqual([res.status, res.code], [status, code], `${path} ${JSON.stringify(headers)}`)
      }
    }
    assert.deepEqual(await t.bridge.contacts.list('first'), [], 'nothing changed')
  })

  it('names what is wrong with a contact request, and answers only real requests', async () => {
    const user = await logIn(t, 'first')
    const headers = { cookie: user.cookie, origin: t.origin, 'x-csrf-token': user.csrfToken }
    const friend = encodeAddress(generateIdentity().publicKey)
    const own = (await t.bridge.identities.get('first')).address
    const max = t.config.gateway.maxRequestTextChars
    const request = (address: string, text: string) =>
      post(t, '/api/contacts/request', { address, text }, headers)
    const typo = `${friend.slice(0, 5)}${friend[5] === 'a' ? 'b' : 'a'}${friend.slice(6)}`
    const cases: [() => ReturnType<typeof post>, number, string][] = [
      [() => request(typo, 'hi'), 400, 'ADDRESS_CHECKSUM'],
      [() => request(friend.slice(1), 'hi'), 400, 'ADDRESS_LENGTH'],
      [() => request(own, 'hi'), 400, 'OWN_ADDRESS'],
      [() => request(friend, 'x'.repeat(max + 1)), 400, 'REQUEST_TEXT_TOO_LONG'],
      [() => request(friend, 'hi\u0000there'), 400, 'REQUEST_TEXT_INVALID'],
      [() => request(friend, 'lone \ud800 surrogate'), 400, 'REQUEST_TEXT_INVALID'],
      [() => post(t, '/api/contacts/approve', { address: friend }, headers), 409, 'NO_REQUEST'],
      [() => post(t, '/api/contacts/deny', { address: friend, extra: 1 }, headers), 400, 'BAD_REQUEST'],
    ]
    for (const [send, status, code] of cases) {
      const res = await send()
      assert.deepEqual([res.status, res.code], [status, code])
    }
    assert.deepEqual(await t.bridge.contacts.list('first'), [])
    // Unlocked at login: the gateway takes it into the outbox (the friend is nowhere: it stays there).
    const sent = await request(friend, '🙂'.repeat(max)) // characters, not UTF-16 units
    assert.equal(sent.status, 200, JSON.stringify(sent.json))
    assert.deepEqual(await t.bridge.contacts.list('first'), [
      { address: friend, name: null, state: 'request-out', requestText: null },
    ])
  })

  it('rate-limits password guesses with 429', async () => {
    const v = await visit(t)
    const headers = { cookie: v.cookie, origin: t.origin, 'x-csrf-token': v.csrfToken }
    const codes: (string | undefined)[] = []
    for (let i = 0; i < MAX_ATTEMPTS + 1 && codes.at(-1) !== 'RATE_LIMITED'; i++) {
      codes.push(
        (await post(t, '/api/session/login', { nickname: 'first', password: `guess ${i}` }, headers)).code,
      )
    }
    assert.equal(codes.at(-1), 'RATE_LIMITED', codes.join())
    assert.ok(
      codes.slice(0, -1).every((c) => c === 'LOGIN_FAILED'),
      codes.join(),
    )
    const right = await post(t, '/api/session/login', { nickname: 'first', password: PASSWORD }, headers)
    assert.equal(right.status, 429, 'even the right password waits for the window')
  })
})

describe('web UI login unlocks the identity', () => {
  let t: TestBridge
  before(async () => {
    t = await startTestBridge()
  })
  after(() => t.stop())

  /** The logged-in identity's state from `GET /api/status`. */
  async function identityState(v: Visitor, origin = t.origin): Promise<IdentityState> {
    const res = await fetch(`${origin}/api/status`, { headers: { cookie: v.cookie } })
    return ((await res.json()) as LiveUpdate).identity
  }

  it('opens the key behind the login’s answer; the status follows, and the gateway then sends', async () => {
    await t.bridge.identities.create('carol', PASSWORD)
    const friend = encodeAddress(generateIdentity().publicKey)
    await assert.rejects(t.bridge.contacts.request('carol', friend, 'hi'), (err: Error) => {
      assert.match(err.message, /not sent to the contact: your identity is locked .*log in again/)
      return true
    })
    const user = await logIn(t, 'carol')
    assert.ok(['unlocking', 'unlocked'].includes((await identityState(user)).key))
    // The request waits for the unlock in progress rather than racing it.
    const headers = { cookie: user.cookie, origin: t.origin, 'x-csrf-token': user.csrfToken }
    const sent = await post(t, '/api/contacts/request', { address: friend, text: 'hi' }, headers)
    assert.equal(sent.status, 200, JSON.stringify(sent.json))
    assert.deepEqual(await identityState(user), { key: 'unlocked', online: false }) // no network node here
  })

  it('logs a failed unlock without the password; sending then answers 502 “log in again”', async () => {
    await t.bridge.identities.create('dave', PASSWORD)
    const lines: string[] = []
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk))
        done()
      },
    })
    const failing = {
      ...t.bridge,
      unlock: async (_nickname: string, password: string) => {
        throw Object.assign(new Error(`cannot open the key with ${password}`), { code: 'KEY_WRONG_PASSWORD' })
      },
    }
    const log = createLogger({ level: 'info', format: 'json' }, sink)
    const ui = await startWebUi({ config: t.config, bridge: failing, log })
    const origin = ui.url.replace(/\/$/, '')
    try {
      const user = await logIn({ ...t, origin }, 'dave')
      const headers = { cookie: user.cookie, origin, 'x-csrf-token': user.csrfToken }
      const friend = encodeAddress(generateIdentity().publicKey)
      const sent = await post(
        { ...t, origin },
        '/api/contacts/request',
        { address: friend, text: 'hi' },
        headers,
      )
      assert.deepEqual([sent.status, sent.code], [502, 'CONTACT_NOT_SENT'])
      assert.match((sent.json.error as { message: string }).message, /log in again/)
      assert.deepEqual(await identityState(user, origin), { key: 'failed', online: false })
    } finally {
      await ui.stop()
    }
    const failure = lines.find((line) => line.includes('identity not unlocked'))
    assert.ok(failure, lines.join(''))
    assert.match(failure, /KEY_WRONG_PASSWORD/)
    assert.ok(!lines.join('').includes(PASSWORD), 'the password is in the log')
  })
})

describe('web UI bind rules', () => {
  const webui = (section: Record<string, unknown>) => validateConfig({ webui: section }).webui

  it('refuses a non-loopback bind without TLS, or without an admin password', () => {
    assert.throws(() => resolveWebUiOptions(webui({ host: '0.0.0.0' })), ConfigError)
    assert.throws(
      () => resolveWebUiOptions(webui({ host: '192.168.1.5', adminPassword: 'long enough pass' })),
      /tls/,
    )
    assert.throws(
      () =>
        resolveWebUiOptions(
          webui({ host: '192.168.1.5', tls: { cert: '/nonexistent.pem', key: '/nonexistent.key' } }),
        ),
      /cannot read/,
    )
    const dir = mkdtempSync(join(tmpdir(), 'paranoim-webui-tls-'))
    const tls = { cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') }
    writeFileSync(tls.cert, 'test')
    writeFileSync(tls.key, 'test')
    assert.throws(() => resolveWebUiOptions(webui({ host: '192.168.1.5', tls })), /adminPassword/)
    assert.equal(
      resolveWebUiOptions(webui({ host: '192.168.1.5', tls, adminPassword: 'long enough pass' })).loopback,
      false,
    )
    rmSync(dir, { recursive: true })
    assert.equal(resolveWebUiOptions(webui({ host: '127.0.0.1' })).loopback, true)
    assert.equal(resolveWebUiOptions(webui({ host: '::1' })).loopback, true)
  })
})

describe('web UI over TLS', () => {
  it('serves HTTPS with a Secure session cookie and HSTS', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'paranoim-webui-tls-'))
    const credentials = await loadCertificate({
      domain: 'localhost',
      certFile: '',
      keyFile: '',
      dataDir: null,
    })
    const tls = { cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') }
    writeFileSync(tls.cert, credentials.cert)
    writeFileSync(tls.key, credentials.key)
    const t = await startTestBridge({ webui: { tls } })
    try {
      assert.match(t.origin, /^https:/)
      const res = await new Promise<IncomingMessage>((resolve, reject) => {
        httpsGet(`${t.origin}/api/session`, { rejectUnauthorized: false }, resolve).on('error', reject)
      })
      res.resume()
      assert.equal(res.statusCode, 200)
      assert.match(res.headers['set-cookie']?.[0] ?? '', /; Secure/)
      assert.match(String(res.headers['strict-transport-security']), /max-age=/)
    } finally {
      await t.stop()
      rmSync(dir, { recursive: true })
    }
  })
})

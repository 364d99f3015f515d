import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { type IncomingMessage, request } from 'node:http'
import { get as httpsGet } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { ConfigError } from '../../bridge/config/errors.js'
import { validateConfig } from '../../bridge/config/load.js'
import { generateIdentity, nobleBackend, sealPrivateKey } from '../../bridge/crypto/index.js'
import { loadCertificate } from '../../bridge/xmpp/certificate.js'
import { resolveWebUiOptions } from '../../webui/server/options.js'
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
    for (const path of ['/api/account', '/api/bindings', '/api/status', '/api/bindings/export']) {
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
    const res = await fetch(`${t.origin}/api/session/login`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        cookie: v.cookie,
        origin: t.origin,
        'x-csrf-token': v.csrfToken,
      },
      body: JSON.stringify({ nickname: 'first', password: PASSWORD }),
    })
    assert.equal(res.status, 200)
    const fresh = res.headers.getSetCookie()[0]!.split(';')[0]!
    assert.notEqual(fresh, v.cookie)
    assert.equal((await fetch(`${t.origin}/api/account`, { headers: { cookie: v.cookie } })).status, 401)
    const account = await fetch(`${t.origin}/api/account`, { headers: { cookie: fresh } })
    assert.equal(account.status, 200)
    assert.equal(((await account.json()) as { nickname: string }).nickname, 'first')
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

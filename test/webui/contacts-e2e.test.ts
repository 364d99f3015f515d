import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { type Element, createElement as xml } from 'ltx'
import type { Browser, Page } from 'playwright-core'
import type { IdentitySummary } from '../../bridge/service/identities.js'
import { login, type TestClient, trustCertificate } from '../xmpp/client.js'
import { launchChromium, logInPage, screenshot, watchConsole } from './browser.js'
import { startTestBridge, type TestBridge } from './helpers.js'

const PASSWORD = 'correct horse battery'
const HOSTILE_TEXT = 'Hi Bob,\n<img src=x onerror="window.__xss=1">it is <b>Alice</b> & co'
const HELD_TEXT = 'Hello Bob, <script>window.__xss=2</script>I am <i>Carol</i>'
const DOMAIN = 'paranoim.localhost'
const WAIT_MS = 60_000

/** Pages show addresses in groups of 4, the way people copy them. */
const grouped = (address: string) => address.match(/.{4}/g)!.join(' ')
const jidOf = (identity: IdentitySummary) => `${identity.address}@${DOMAIN}`

/** The outcome notice of an action on the contacts page. */
async function outcome(page: Page, ok: RegExp): Promise<void> {
  const note = page.locator('#contacts-status .notice')
  await note.waitFor()
  assert.match((await note.textContent()) ?? '', ok)
}

/** The roster item of `jid` in a roster push to the client. */
async function rosterPush(client: TestClient, jid: string, subscription: string): Promise<void> {
  await client.next(
    (el) =>
      el.is('iq') &&
      el.attrs.type === 'set' &&
      el.getChild('query')?.getChild('item')?.attrs.jid === jid &&
      el.getChild('query')?.getChild('item')?.attrs.subscription === subscription,
    WAIT_MS,
  )
}

const chatFrom = (jid: string) => (el: Element) =>
  el.is('message') && el.attrs.from?.split('/')[0] === jid && el.getChildText('body') !== null

/**
 * Four identities of one bridge (no network node): what one sends reaches the
 * other through the real gateway and messenger (short-circuited on the
 * bridge), once both are unlocked — Alice and Bob by logging in to the web UI,
 * Carol and Dave by the service.
 */
describe('contacts page in a real browser', () => {
  let browser: Browser
  let t: TestBridge
  let alice: IdentitySummary
  let bob: IdentitySummary
  let carol: IdentitySummary
  let dave: IdentitySummary
  let alicePage: Page
  let bobPage: Page
  let bobXmpp: TestClient
  let carolXmpp: TestClient
  let problems: string[][]

  before(async () => {
    browser = await launchChromium()
    t = await startTestBridge()
    alice = await t.bridge.identities.create('alice', PASSWORD)
    bob = await t.bridge.identities.create('bob', PASSWORD)
    carol = await t.bridge.identities.create('carol', PASSWORD)
    dave = await t.bridge.identities.create('dave', PASSWORD)
    await t.bridge.unlock('carol', PASSWORD)
    await t.bridge.unlock('dave', PASSWORD)
    trustCertificate(
      await readFile(join(t.dataDir, 'tls', `${DOMAIN}.crt`), 'utf8'),
      t.bridge.status().xmpp!.port,
    )
    carolXmpp = await login(t.bridge.status().xmpp!.port, 'carol', { password: PASSWORD })
  })
  after(async () => {
    await bobXmpp?.stop()
    await carolXmpp?.stop()
    await browser?.close()
    await t?.stop()
  })

  it('logging in to the web UI unlocks the identity; the account page says so', async () => {
    alicePage = await logInPage(browser, t.origin, 'alice', PASSWORD)
    bobPage = await logInPage(browser, t.origin, 'bob', PASSWORD)
    problems = [watchConsole(alicePage), watchConsole(bobPage)]
    for (const page of [alicePage, bobPage])
      await page
        .locator('#identity-status', { hasText: 'Unlocked. The peer-to-peer network is off' })
        .waitFor()
    await screenshot(alicePage, '09-account-unlocked')
    // Only now Bob's Jabber client: the web UI login alone unlocked him (and Alice has none).
    bobXmpp = await login(t.bridge.status().xmpp!.port, 'bob', { password: PASSWORD })
    // Roster pushes go to resources that asked for the roster; subscription requests to available ones.
    await bobXmpp.xmpp.iqCaller.request(
      xml('iq', { type: 'get' }, xml('query', { xmlns: 'jabber:iq:roster' })),
    )
    await bobXmpp.xmpp.send(xml('presence'))
  })

  it('sends a request from the page: typos and the own address are named first', async () => {
    await t.bridge.bindings.add(alice.address, 'Bob', bob.address)
    await alicePage.goto(`${t.origin}/contacts`)
    await alicePage.getByText('No contacts yet.').waitFor()
    await screenshot(alicePage, '10-contacts-empty')
    const typo = `${bob.address.slice(0, 20)}${bob.address[20] === 'a' ? 'b' : 'a'}${bob.address.slice(21)}`
    await alicePage.fill('input[name=address]', typo)
    await alicePage.getByRole('button', { name: 'Send request' }).click()
    await alicePage.getByText('checksum does not match').waitFor()
    await alicePage.fill('input[name=address]', alice.address)
    await alicePage.getByRole('button', { name: 'Send request' }).click()
    await alicePage.getByText('this is your own address').waitFor()

    await alicePage.fill('input[name=address]', grouped(bob.address))
    await alicePage.fill('textarea[name=requestText]', HOSTILE_TEXT)
    await alicePage.getByRole('button', { name: 'Send request' }).click()
    await outcome(alicePage, /Request sent/)
    await alicePage.locator('#requests-out td.name', { hasText: 'Bob' }).waitFor()
    assert.deepEqual(await t.bridge.contacts.list('alice'), [
      { address: bob.address, name: 'Bob', state: 'request-out', requestText: null },
    ])
  })

  it('shows the request to its recipient live, its HTML as text, and the Jabber client gets it too', async () => {
    await bobPage.goto(`${t.origin}/contacts`)
    const text = bobPage.locator('#requests-in .request-text')
    await text.waitFor() // through the gateway and messenger, then the live status stream
    assert.equal(await text.textContent(), HOSTILE_TEXT)
    assert.equal(await bobPage.locator('#contacts img, #contacts b').count(), 0)
    assert.equal(await bobPage.evaluate(() => (window as { __xss?: number }).__xss), undefined)
    assert.equal(await bobPage.locator('#requests-in .address').textContent(), grouped(alice.address))
    await screenshot(bobPage, '11-contacts-request-in')
    const request = await bobXmpp.next((el) => el.is('presence') && el.attrs.type === 'subscribe', WAIT_MS)
    assert.equal(request.attrs.from, jidOf(alice))
    assert.equal(request.getChildText('status'), HOSTILE_TEXT)
  })

  it('approves in the browser: both are mutual contacts, and Bob’s roster says "both"', async () => {
    await bobPage.getByRole('button', { name: 'Approve' }).click()
    await outcome(bobPage, /Approved/)
    // Bob approved and asked back; Alice's request had approved that in advance.
    await rosterPush(bobXmpp, jidOf(alice), 'both')
    await alicePage.locator('#contacts-mutual td.name', { hasText: 'Bob' }).waitFor()
    await t.bridge.bindings.add(bob.address, 'Alice', alice.address)
    await bobPage.locator('#contacts-mutual td.name', { hasText: 'Alice' }).waitFor()
    assert.equal(await bobPage.locator('#requests-out').count(), 0)
    await screenshot(bobPage, '12-contacts-mutual')
    assert.deepEqual(await t.bridge.contacts.list('bob'), [
      { address: alice.address, name: 'Alice', state: 'mutual', requestText: null },
    ])
    assert.deepEqual(await t.bridge.contacts.list('alice'), [
      { address: bob.address, name: 'Bob', state: 'mutual', requestText: null },
    ])
  })

  it('holds a stranger’s messages: listed as text, then with their request; approving shows them in the client', async () => {
    await carolXmpp.xmpp.send(
      xml('message', { to: jidOf(bob), type: 'chat', id: 'c1' }, xml('body').t(HELD_TEXT)),
    )
    const held = bobPage.locator('#held .held-body')
    await held.waitFor()
    assert.equal(await held.textContent(), HELD_TEXT)
    assert.equal(await bobPage.locator('#held .address').textContent(), grouped(carol.address))
    assert.equal(await bobPage.locator('#contacts script, #contacts i').count(), 0)
    await screenshot(bobPage, '13-contacts-held')
    assert.ok(!bobXmpp.stanzas.some(chatFrom(jidOf(carol))), 'the client does not see it yet')
    await bobPage.getByRole('button', { name: 'Add as contact…' }).click()
    assert.equal(await bobPage.inputValue('input[name=address]'), grouped(carol.address))
    await bobPage.fill('input[name=address]', '')

    await carolXmpp.xmpp.send(
      xml('presence', { to: jidOf(bob), type: 'subscribe' }, xml('status').t('Carol, from the conference')),
    )
    const card = bobPage.locator('#requests-in .request', { hasText: 'Carol, from the conference' })
    await card.locator('.held-body', { hasText: 'I am <i>Carol</i>' }).waitFor()
    assert.equal(await bobPage.locator('#held').count(), 0, 'shown once, with the request')
    await screenshot(bobPage, '14-contacts-request-with-held')

    await card.getByRole('button', { name: 'Approve' }).click()
    await outcome(bobPage, /Approved/)
    const released = await bobXmpp.next(chatFrom(jidOf(carol)), WAIT_MS)
    assert.equal(released.getChildText('body'), HELD_TEXT)
    assert.deepEqual(await t.bridge.contacts.held('bob'), [])
    await bobPage.locator('#requests-out td.address', { hasText: grouped(carol.address) }).waitFor()
    assert.equal(await bobPage.locator('.held-body').count(), 0)
    assert.equal(await bobPage.evaluate(() => (window as { __xss?: number }).__xss), undefined)
  })

  it('denies a stranger’s request in the browser', async () => {
    await t.bridge.contacts.request('dave', bob.address, 'buy cheap watches')
    await bobPage.getByText('buy cheap watches').waitFor()
    bobPage.once('dialog', (dialog) => dialog.accept())
    await bobPage.getByRole('button', { name: 'Deny' }).click()
    await outcome(bobPage, /Denied/)
    await bobPage.getByText('No requests waiting.').waitFor()
    const states = (await t.bridge.contacts.list('bob')).map((c) => [c.address, c.state])
    assert.deepEqual(
      states.sort(),
      [
        [alice.address, 'mutual'],
        [carol.address, 'request-out'],
      ].sort(),
    )
    assert.ok(!(await t.bridge.contacts.list('bob')).some((c) => c.address === dave.address))
    assert.deepEqual(problems, [[], []])
  })
})

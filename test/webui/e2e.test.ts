import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { createElement as xml } from 'ltx'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { encodeAddress, generateIdentity } from '../../bridge/crypto/index.js'
import { login, trustCertificate } from '../xmpp/client.js'
import { launchChromium, openContext, screenshot, watchConsole } from './browser.js'
import { startTestBridge, type TestBridge } from './helpers.js'

const PASSWORD = 'correct horse battery'
const HOSTILE_NAME = '<img src=x onerror="window.__xss=1">Bob & <b>co</b>'

/** What the backup page downloads, as saved files. */
interface Downloads {
  text: string
  file: string
  qrImages: string[]
}

async function saveDownload(page: Page, click: () => Promise<void>, count = 1): Promise<string[]> {
  const paths: string[] = []
  const done = new Promise<void>((resolve) => {
    page.on('download', async function onDownload(download) {
      paths.push(await download.path())
      if (paths.length === count) {
        page.off('download', onDownload)
        resolve()
      }
    })
  })
  await click()
  await done
  return paths
}

async function createIdentity(page: Page, origin: string): Promise<string> {
  await page.goto(`${origin}/`)
  await page.getByRole('link', { name: 'Create an identity' }).click()
  await page.fill('input[name=nickname]', 'alice')
  await page.fill('input[name=password]', PASSWORD)
  await page.fill('input[name=password2]', PASSWORD)
  await page.getByRole('button', { name: 'Create identity' }).click()
  await page.waitForURL('**/account?new=1')
  const address = ((await page.textContent('#address')) ?? '').replaceAll(' ', '')
  assert.match(address, /^[a-z2-7]{56}$/)
  return address
}

async function fetchBackups(page: Page, origin: string): Promise<Downloads> {
  await page.goto(`${origin}/backup`)
  await page.fill('input[name=password]', 'not my password')
  await page.getByRole('button', { name: 'Show backup' }).click()
  await page.getByText('wrong password').waitFor()
  await page.fill('input[name=password]', PASSWORD)
  await page.getByRole('button', { name: 'Show backup' }).click()
  await page.waitForSelector('#backup-text')
  await screenshot(page, '03-backup-sheet')
  await page.emulateMedia({ media: 'print' })
  await screenshot(page, '04-backup-print')
  await page.emulateMedia({ media: 'screen' })
  const [text] = await saveDownload(page, () => page.click('#download-text'))
  const [file] = await saveDownload(page, () => page.click('#download-file'))
  const qrImages = await saveDownload(page, () => page.click('#download-qr'), 3)
  return { text: await readFile(text!, 'utf8'), file: file!, qrImages }
}

/** Restores into a fresh bridge; `fill` chooses the backup form. */
async function restoreInto(
  browser: Browser,
  name: string,
  fill: (page: Page) => Promise<void>,
  expectAddress: string,
): Promise<void> {
  const bridge = await startTestBridge()
  const context = await openContext(browser)
  try {
    const page = await context.newPage()
    const problems = watchConsole(page)
    await page.goto(`${bridge.origin}/restore`)
    await page.fill('input[name=nickname]', 'alice2')
    await page.fill('input[name=password]', PASSWORD)
    await page.fill('input[name=password2]', PASSWORD)
    await fill(page)
    await page.getByRole('button', { name: 'Restore identity' }).click()
    await page.waitForURL('**/account')
    assert.equal(((await page.textContent('#address')) ?? '').replaceAll(' ', ''), expectAddress)
    await screenshot(page, `06-restored-from-${name}`)
    assert.deepEqual(problems, [])
    const restored = await bridge.bridge.identities.list()
    assert.deepEqual(
      restored.map((i) => [i.nickname, i.address]),
      [['alice2', expectAddress]],
    )
  } finally {
    await context.close()
    await bridge.stop()
  }
}

describe('web UI in a real browser', () => {
  let browser: Browser
  let bridge: TestBridge
  let context: BrowserContext
  let page: Page
  let problems: string[]
  let address = ''
  /** The address the bindings test names "Bob". */
  let friend = ''
  let backups: Downloads

  before(async () => {
    browser = await launchChromium()
    bridge = await startTestBridge({ kdfLogN: 12 }) // scrypt slow enough for its progress to show
    context = await openContext(browser, { acceptDownloads: true })
    page = await context.newPage()
    problems = watchConsole(page)
  })
  after(async () => {
    await context?.close()
    await browser?.close()
    await bridge?.stop()
  })

  it('creates an identity in the browser, showing HTML in a nickname as text', async () => {
    await page.goto(`${bridge.origin}/create`)
    await screenshot(page, '01-create')
    await page.fill('input[name=nickname]', '<b id="injected">x</b>')
    await page.fill('input[name=password]', PASSWORD)
    await page.fill('input[name=password2]', PASSWORD)
    await page.getByRole('button', { name: 'Create identity' }).click()
    const alert = page.getByRole('alert')
    await alert.waitFor()
    assert.match((await alert.textContent()) ?? '', /nickname "<b id="injected">x<\/b>"/)
    assert.equal(await page.locator('#injected').count(), 0, 'the nickname must not become markup')

    const progress: number[] = []
    await page.exposeFunction('reportProgress', (value: number) => progress.push(value))
    await page.addInitScript(() => {
      const report = (window as unknown as { reportProgress: (v: number) => void }).reportProgress
      new MutationObserver(() => {
        const bar = document.querySelector('progress')
        if (bar) report(bar.value)
      }).observe(document, { subtree: true, childList: true, attributes: true })
    })
    address = await createIdentity(page, bridge.origin)
    assert.ok(
      progress.some((v) => v > 0 && v < 1),
      `the scrypt progress bar moved: ${progress.join()}`,
    )
    const stored = await bridge.bridge.identities.list()
    assert.deepEqual(
      stored.map((i) => [i.nickname, i.address]),
      [['alice', address]],
    )
    assert.equal(await page.locator('canvas.qr').count(), 2, 'QR codes of the address and of the xmpp: URI')
    const settings = (await page.locator('table.settings').textContent()) ?? ''
    const xmpp = bridge.bridge.status().xmpp!
    assert.match(settings, /Jabber IDalice@paranoim\.localhost/)
    assert.match(
      settings,
      new RegExp(`Port${xmpp.port} \\(STARTTLS\\), ${xmpp.directTlsPort} \\(direct TLS\\)`),
    )
    assert.equal(
      await page.locator('.fingerprint').textContent(),
      bridge.bridge.status().xmpp!.certificateSha256,
    )
    assert.match(bridge.bridge.status().xmpp!.certificateSha256, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/)
    assert.equal(
      await page.locator('.fingerprint-sha1').textContent(),
      bridge.bridge.status().xmpp!.certificateSha1,
    )
    assert.match(bridge.bridge.status().xmpp!.certificateSha1, /^([0-9A-F]{2}:){19}[0-9A-F]{2}$/)
    assert.ok(await page.getByText('xmpp:alice@paranoim.localhost').isVisible())
    await screenshot(page, '02-account')
  })

  it('hands out the backup as text, file and QR images; a wrong password is named', async () => {
    backups = await fetchBackups(page, bridge.origin)
    assert.match(backups.text, /^paranoim key backup v1\n/)
    assert.equal(backups.qrImages.length, 3)
  })

  it('adds, renames, removes, exports and imports names; HTML in a name stays text', async () => {
    friend = encodeAddress(generateIdentity().publicKey)
    await page.goto(`${bridge.origin}/bindings`)
    await page.fill('input[name=name]', 'Typo')
    await page.fill(
      'input[name=address]',
      `${friend.slice(0, 10)}${friend[10] === 'a' ? 'b' : 'a'}${friend.slice(11)}`,
    )
    await page.getByRole('button', { name: 'Add' }).click()
    await page.getByText('checksum does not match').waitFor()

    await page.fill('input[name=name]', HOSTILE_NAME)
    await page.fill('input[name=address]', friend.toUpperCase())
    await page.getByRole('button', { name: 'Add' }).click()
    await page.locator('td.name').first().waitFor()
    assert.equal(await page.locator('td.name').first().textContent(), HOSTILE_NAME)
    assert.equal(await page.locator('#bindings img, #bindings b').count(), 0)
    assert.equal(await page.evaluate(() => (window as { __xss?: number }).__xss), undefined)
    await screenshot(page, '05-bindings')

    page.once('dialog', (dialog) => dialog.accept('Bob'))
    await page.getByRole('button', { name: 'Rename' }).click()
    await page.getByText('Renamed to "Bob"').waitFor()
    const owner = address
    assert.deepEqual(
      (await bridge.bridge.bindings.list(owner)).map((b) => [b.name, b.address]),
      [['Bob', friend]],
    )

    const [exported] = await saveDownload(page, () => page.getByText('Export names as a file').click())
    page.once('dialog', (dialog) => dialog.accept())
    await page.getByRole('button', { name: 'Remove' }).click()
    await page.getByText('No names yet.').waitFor()
    await page.setInputFiles('input[name=importFile]', exported!)
    await page.getByText('Imported 1 new').waitFor()
    assert.deepEqual(
      (await bridge.bridge.bindings.list(owner)).map((b) => [b.name, b.address]),
      [['Bob', friend]],
    )
  })

  it('logs in to the XMPP server with the account and password chosen in the browser; names are roster names', async () => {
    trustCertificate(await readFile(join(bridge.dataDir, 'tls', 'paranoim.localhost.crt'), 'utf8'))
    const client = await login(bridge.bridge.status().xmpp!.port, 'alice', { password: PASSWORD })
    try {
      assert.equal(client.jid.split('/')[0], 'alice@paranoim.localhost')
      const contact = `${friend}@paranoim.localhost`
      await client.xmpp.iqCaller.request(
        xml(
          'iq',
          { type: 'set' },
          xml('query', { xmlns: 'jabber:iq:roster' }, xml('item', { jid: contact })),
        ),
      )
      const result = await client.xmpp.iqCaller.request(
        xml('iq', { type: 'get' }, xml('query', { xmlns: 'jabber:iq:roster' })),
      )
      assert.deepEqual(
        result
          .getChild('query')!
          .getChildren('item')
          .map((item) => item.attrs),
        [{ jid: contact, name: 'Bob', subscription: 'none' }],
      )
    } finally {
      await client.stop()
    }
  })

  it('shows the network as not running while the bridge has no network node, and no contacts yet', async () => {
    await page.goto(`${bridge.origin}/network`)
    await page.locator('#network-off').waitFor()
    assert.match(
      (await page.locator('#network').textContent()) ?? '',
      new RegExp(`127\\.0\\.0\\.1:${bridge.bridge.status().xmpp!.port}`),
    )
    await page.getByText('Live · updated').waitFor()
    await screenshot(page, '07-network')
    await page.goto(`${bridge.origin}/contacts`)
    await page.getByText('No requests waiting.').waitFor()
    await page.getByText('No contacts yet.').waitFor()
  })

  it('logs out, refuses a wrong password, and logs back in', async () => {
    await page.getByRole('button', { name: 'Log out' }).click()
    await page.getByRole('heading', { name: 'Log in' }).waitFor()
    await page.fill('input[name=nickname]', 'alice')
    await page.fill('input[name=password]', 'not my password')
    await page.getByRole('button', { name: 'Log in' }).click()
    await page.getByText('wrong nickname or password').waitFor()
    await screenshot(page, '08-login')
    await page.fill('input[name=password]', PASSWORD)
    await page.getByRole('button', { name: 'Log in' }).click()
    await page.waitForURL('**/account')
    assert.equal(((await page.textContent('#address')) ?? '').replaceAll(' ', ''), address)
  })

  it('restores from the text into a fresh data dir, naming a mistyped line first', async () => {
    const lines = backups.text.split('\n')
    const typo = lines.map((line, i) =>
      i === 2 ? line.replace(/[a-z2-7](?=[a-z2-7]{3} )/, (c) => (c === 'a' ? 'b' : 'a')) : line,
    )
    await restoreInto(
      browser,
      'text',
      async (p) => {
        await p.fill('textarea[name=backupText]', typo.join('\n'))
        await p.getByRole('button', { name: 'Restore identity' }).click()
        await p.getByRole('alert').waitFor()
        assert.match((await p.getByRole('alert').textContent()) ?? '', /line 2/i)
        await screenshot(p, '06-restore-typo')
        await p.fill('textarea[name=backupText]', backups.text)
      },
      address,
    )
  })

  it('restores from the file, after naming a wrong password', async () => {
    await restoreInto(
      browser,
      'file',
      async (p) => {
        await p.check('input[value=file]')
        await p.setInputFiles('input[name=backupFile]', backups.file)
        await p.fill('input[name=password]', 'wrong password!')
        await p.fill('input[name=password2]', 'wrong password!')
        await p.getByRole('button', { name: 'Restore identity' }).click()
        await p.getByText('Wrong password').waitFor()
        await p.fill('input[name=password]', PASSWORD)
        await p.fill('input[name=password2]', PASSWORD)
      },
      address,
    )
  })

  it('restores from the three QR images, after naming a missing part', async () => {
    await restoreInto(
      browser,
      'qr',
      async (p) => {
        await p.check('input[value=qr]')
        await p.setInputFiles('input[name=qrImages]', backups.qrImages.slice(0, 2))
        await p.getByRole('button', { name: 'Restore identity' }).click()
        await p.getByRole('alert').waitFor()
        assert.match((await p.getByRole('alert').textContent()) ?? '', /part 3 of 3 is missing/)
        await p.setInputFiles('input[name=qrImages]', backups.qrImages)
      },
      address,
    )
    assert.deepEqual(problems, [])
  })
})

import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Browser, Page } from 'playwright-core'
import { encodeAddress, generateIdentity } from '../../bridge/crypto/index.js'
import { TESTNET_CONFIG, type Testnet } from '../../bridge/dht/testnet.js'
import { silentLogger } from '../../bridge/log.js'
import type { NetworkStatus } from '../../bridge/service/status.js'
import { startWebUi, type WebUi } from '../../webui/server/server.js'
import { FAST } from '../dht/helpers.js'
import { startRelayTestnet } from '../e2e/relay-testnet.js'
import { launchChromium, logInPage, screenshot, watchConsole } from './browser.js'
import { startTestBridge, type TestBridge } from './helpers.js'

const PASSWORD = 'correct horse battery'
/** Tunnels on a loaded machine: generous, a real failure still fails. */
const ONLINE_WITHIN_MS = 60_000

/** The page's "label → value" pairs of the network card. */
async function networkCounts(page: Page): Promise<Record<string, string>> {
  return page.locator('#network-node dl').evaluate((dl) => {
    const out: Record<string, string> = {}
    for (const dt of Array.from(dl.querySelectorAll('dt')))
      out[dt.textContent!] = dt.nextElementSibling!.textContent!
    return out
  })
}

/** Waits until the network card shows at least `min` for `label` (it is redrawn at every update). */
async function waitForCount(
  page: Page,
  label: string,
  min: number,
  timeout = ONLINE_WITHIN_MS,
): Promise<void> {
  await page.waitForFunction(
    ([label, min]) => {
      const dt = Array.from(document.querySelectorAll('#network-node dt')).find(
        (d) => d.textContent === label,
      )
      return Number(dt?.nextElementSibling?.textContent) >= Number(min)
    },
    [label, min] as const,
    { timeout },
  )
}

/** The network card's rows for the counts the rendering test sets. */
const NETWORK_LABELS = {
  'Peers known': '12',
  'Relays known': '6',
  'Inbound tunnels': '2',
  'Outbound tunnels (built when sending)': '3',
  'Intro points': '2',
  'Messages waiting to be sent': '4',
  'Envelopes held for others': '5',
}

describe('network page in a real browser', () => {
  let browser: Browser
  before(async () => {
    browser = await launchChromium()
  })
  after(() => browser?.close())

  it('renders network counts and follows them live (a status value handed to the page)', async () => {
    const t = await startTestBridge()
    await t.bridge.identities.create('alice', PASSWORD)
    // Rendering only: the bridge's real status, with a network part set by the test.
    let network: NetworkStatus = {
      peers: 0,
      relays: 0,
      tunnels: { inbound: 0, outbound: 0 },
      introPoints: 0,
      outbox: 0,
      mailboxHeld: 0,
    }
    const bridge = { ...t.bridge, status: () => ({ ...t.bridge.status(), network }) }
    const ui: WebUi = await startWebUi({ config: t.config, bridge, log: silentLogger })
    try {
      const origin = ui.url.replace(/\/$/, '')
      const page = await logInPage(browser, origin, 'alice', PASSWORD)
      const problems = watchConsole(page)
      await page.goto(`${origin}/network`)
      await page.getByText('Looking for peers…').waitFor()
      await page.locator('#identity-status', { hasText: 'Building tunnels…' }).waitFor()
      await screenshot(page, '16-network-building-tunnels')
      network = {
        peers: 12,
        relays: 6,
        tunnels: { inbound: 2, outbound: 3 },
        introPoints: 2,
        outbox: 4,
        mailboxHeld: 5,
      }
      await page.locator('#network-node dd', { hasText: '12' }).waitFor()
      assert.deepEqual(await networkCounts(page), NETWORK_LABELS)
      assert.equal(await page.locator('#network-node .notice').count(), 0)
      await page.locator('#identity-status', { hasText: '6 relays known, 2 inbound tunnels up' }).waitFor()
      assert.deepEqual(problems, [])
      await page.context().close()
    } finally {
      await ui.stop()
      await t.stop()
    }
  })

  describe('on a testnet of 10 relays', () => {
    let testnet: Testnet
    let t: TestBridge

    before(async () => {
      let bootstrap: string
      ;({ testnet, bootstrap } = await startRelayTestnet(10))
      t = await startTestBridge({
        files: [TESTNET_CONFIG],
        overrides: {
          net: { enabled: true, host: '127.0.0.1' },
          dht: { ...FAST, bootstrap: [bootstrap] },
        },
      })
      await t.bridge.identities.create('alice', PASSWORD)
    })
    after(async () => {
      await t?.stop()
      await testnet?.stop()
    })

    it('shows the real counts live: peers, relays, three tunnels once online, the outbox', async () => {
      const page = await logInPage(browser, t.origin, 'alice', PASSWORD)
      const problems = watchConsole(page)
      await page.goto(`${t.origin}/network`)
      await page.locator('#network-node dl').waitFor()
      const identity = page.locator('#identity-status')
      await identity.getByText('Online: your address is published').waitFor({ timeout: ONLINE_WITHIN_MS })
      assert.equal(t.bridge.online('alice'), true)
      const inbound = t.config.onion.inboundTunnels
      await waitForCount(page, 'Inbound tunnels', inbound)
      const shown = await networkCounts(page)
      assert.ok(Number(shown['Peers known']) > 0, JSON.stringify(shown))
      assert.ok(Number(shown['Relays known']) > 0, JSON.stringify(shown))
      assert.equal(shown['Inbound tunnels'], String(inbound))
      assert.equal(shown['Intro points'], String(inbound))
      assert.equal(shown['Messages waiting to be sent'], '0')
      // A relaying bridge holds mailboxes (mailbox.hold): a real count, nothing deposited with it yet.
      assert.equal(shown['Envelopes held for others'], '0')

      // A request to an address nobody hosts stays in the outbox: the open page follows.
      const nobody = encodeAddress(generateIdentity().publicKey)
      await t.bridge.contacts.request('alice', nobody, 'are you there?')
      await waitForCount(page, 'Messages waiting to be sent', 1)
      assert.ok(t.bridge.status().network!.outbox > 0)
      await screenshot(page, '15-network-testnet')
      assert.deepEqual(problems, [])
      await page.context().close()
    })
  })
})

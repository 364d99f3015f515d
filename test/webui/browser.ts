import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import {
  type Browser,
  type BrowserContext,
  type BrowserContextOptions,
  chromium,
  type Page,
} from 'playwright-core'

export const ARTIFACTS = join(import.meta.dirname, '..', 'artifacts', 'webui')

/** Debian's chromium, headless, with nothing that phones home; a fresh profile per launch. */
export async function launchChromium(): Promise<Browser> {
  await mkdir(ARTIFACTS, { recursive: true })
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
}

/**
 * A browser context whose waits allow for a busy CI machine: with the suite
 * running two files at once on two cores, chromium can be starved for tens of
 * seconds, past Playwright's 30 s default. A real failure still fails, later.
 */
export async function openContext(
  browser: Browser,
  options: BrowserContextOptions = {},
): Promise<BrowserContext> {
  const context = await browser.newContext(options)
  context.setDefaultTimeout(120_000)
  context.setDefaultNavigationTimeout(120_000)
  return context
}

/** Collects page errors and CSP violations, which must stay empty. */
export function watchConsole(page: Page): string[] {
  const problems: string[] = []
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`))
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !/status of 4\d\d/.test(msg.text())) problems.push(`console: ${msg.text()}`)
  })
  return problems
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true })
}

/** Logs in through the home page in a fresh context (which unlocks the identity): its account page. */
export async function logInPage(
  browser: Browser,
  origin: string,
  nickname: string,
  password: string,
): Promise<Page> {
  const context = await openContext(browser)
  const page = await context.newPage()
  await page.goto(`${origin}/`)
  await page.fill('input[name=nickname]', nickname)
  await page.fill('input[name=password]', password)
  await page.getByRole('button', { name: 'Log in' }).click()
  await page.waitForURL('**/account')
  return page
}

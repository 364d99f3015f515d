import type { SessionInfo } from '../shared/api-types.js'
import { ApiError, api, loadSession } from './api.js'
import { type Child, h, notice, replace } from './dom.js'

const NAV = [
  ['/account', 'Account'],
  ['/backup', 'Backup'],
  ['/bindings', 'Names'],
  ['/contacts', 'Contacts'],
  ['/network', 'Network'],
] as const

/**
 * Every page: loads the session, draws the header, and runs the page body,
 * showing any error it throws in the page instead of failing silently.
 */
export async function page(
  title: string,
  body: (main: HTMLElement, session: SessionInfo) => Promise<void> | void,
  options: { login?: boolean } = {},
): Promise<void> {
  document.title = `${title} · ParanoIM`
  const main = document.getElementById('main') as HTMLElement
  let session: SessionInfo
  try {
    session = await loadSession()
  } catch (err) {
    replace(main, errorNotice(err))
    return
  }
  drawHeader(session)
  if (options.login && !session.identity) {
    location.assign('/')
    return
  }
  replace(main, h('h1', {}, title))
  try {
    await body(main, session)
  } catch (err) {
    main.append(errorNotice(err))
  }
}

function drawHeader(session: SessionInfo): void {
  const header = document.getElementById('top') as HTMLElement
  const links: Child[] = session.identity
    ? NAV.map(([href, label]) =>
        h('a', { href, 'aria-current': location.pathname === href ? 'page' : undefined }, label),
      )
    : [h('a', { href: '/' }, 'Log in'), h('a', { href: '/restore' }, 'Restore')]
  const who = session.identity
    ? h(
        'span',
        { class: 'who' },
        'Logged in as ',
        h('strong', {}, session.identity.nickname),
        ' ',
        logoutButton(),
      )
    : null
  replace(header, h('a', { class: 'brand', href: '/' }, 'ParanoIM'), h('nav', {}, ...links), who)
}

function logoutButton(): HTMLElement {
  return h(
    'button',
    {
      type: 'button',
      class: 'link',
      onclick: async () => {
        await api('POST', '/api/session/logout')
        location.assign('/')
      },
    },
    'Log out',
  )
}

export function errorNotice(err: unknown): HTMLElement {
  if (err instanceof ApiError) return notice('error', err.message)
  return notice('error', err instanceof Error ? err.message : String(err))
}

export type Refresh = () => Promise<void>

/**
 * Runs a user's action, shows its outcome in `status`, and redraws: even a
 * failed action may have changed something (a request saved but not sent).
 */
export async function act(
  status: HTMLElement,
  refresh: Refresh,
  action: () => Promise<string>,
): Promise<void> {
  status.replaceChildren() // the last outcome no longer applies
  try {
    status.replaceChildren(notice('ok', await action()))
  } catch (err) {
    status.replaceChildren(errorNotice(err))
  }
  await refresh().catch((err: unknown) => status.append(errorNotice(err)))
}

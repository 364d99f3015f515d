/** URL path → the page's script (webui/client/pages/<name>.ts), one bundle entry each. */
export const PAGES: Readonly<Record<string, string>> = {
  '/': 'home',
  '/create': 'create',
  '/restore': 'restore',
  '/account': 'account',
  '/backup': 'backup',
  '/bindings': 'bindings',
  '/contacts': 'contacts',
  '/network': 'network',
}

import express, { Router } from 'express'
import { projectPath } from '../../bridge/paths.js'
import { browserBundle } from './bundle.js'
import { PAGES } from './page-list.js'

const publicDir = projectPath('webui', 'public')

/**
 * Every page is the same empty shell; its script builds the content from the
 * API with DOM calls, so no user-supplied string is ever inserted into HTML.
 */
function shell(script: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ParanoIM</title>
<link rel="stylesheet" href="/style.css">
<script type="module" src="/build/${script}.js"></script>
</head>
<body>
<header id="top" class="no-print"></header>
<main id="main"><p class="notice info">Loading…</p></main>
<noscript><p class="notice error">ParanoIM's pages need JavaScript: keys are made and locked in your browser.</p></noscript>
</body>
</html>
`
}

export async function pageRoutes(): Promise<Router> {
  const bundle = await browserBundle()
  const router = Router()
  for (const [path, script] of Object.entries(PAGES)) {
    const html = shell(script)
    router.get(path, (_req, res) => {
      res.type('html').set('cache-control', 'no-store').send(html)
    })
  }
  router.get('/build/{*file}', (req, res, next) => {
    const file = bundle.get(req.path)
    if (!file) return next()
    res.type('text/javascript').set('cache-control', 'no-cache').send(Buffer.from(file))
  })
  router.use(express.static(publicDir, { index: false, dotfiles: 'ignore', redirect: false }))
  return router
}

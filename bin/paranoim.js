#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, so `npx paranoim` works without a build step.
import { register } from 'tsx/esm/api'

register()
await import('../bridge/cli/main.ts')

#!/usr/bin/env node
// Launcher for the `ts-libp2p` command. Node refuses to strip TypeScript types in files under
// node_modules, so an installed package runs the compiled build (dist/, from `npm run build`);
// a source checkout runs src/ directly (Node >= 22.18 / 24 strips the types), never a stale dist/.
import { existsSync } from 'node:fs'
import module from 'node:module'

// V8's on-disk compile cache, before the entry loads: see src/cli/compile-cache.ts.
module.enableCompileCache?.()

const source = new URL('../src/cli/main.ts', import.meta.url)
const built = new URL('../dist/cli/main.js', import.meta.url)
const installed = import.meta.url.includes('/node_modules/')
await import((installed || !existsSync(source)) && existsSync(built) ? built.href : source.href)

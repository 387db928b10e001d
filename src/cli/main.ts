/**
 * Entry point of the `ts-libp2p` command (`node src/cli/main.ts ...`, `npm start`, and
 * bin/ts-libp2p.js): runs the CLI and exits with its code.
 */
// First, so they are in place before the commands load (and before anything loads node:sqlite).
import { compileEagerlyWhenCached } from './compile-cache.ts'
import './quiet-sqlite-warning.ts'

// perf's client measures from its dial on, after start-up: see compile-cache.ts
if (process.argv[2] === 'perf' && !process.argv.includes('--run-server')) compileEagerlyWhenCached()

// Loaded after the compile cache is on: a static import would be compiled before it (the whole
// static graph is, multiaddr's ~40 modules among it).
const { run } = await import('./cli.ts')
process.exitCode = await run(process.argv.slice(2))

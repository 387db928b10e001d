/**
 * Entry point of the `ts-libp2p` command (`node src/cli/main.ts ...`, `npm start`, and
 * bin/ts-libp2p.js): runs the CLI and exits with its code.
 */
// First, so it is in place before anything loads node:sqlite.
import './quiet-sqlite-warning.ts'
import { run } from './cli.ts'

process.exitCode = await run(process.argv.slice(2))

/**
 * `npm run test:unit`: every test outside test/interop/, i.e. without the peers of other
 * implementations (go, js, and later rust and python) and without building them. `npm test`
 * runs everything. Extra arguments go to `node --test` (e.g. `--test-name-pattern`).
 */
import { globSync } from 'node:fs'
import { spawnSync } from 'node:child_process'

const files = globSync('test/**/*.test.ts', { exclude: ['test/interop/**'] }).sort()
const result = spawnSync(process.execPath, ['--test', '--test-concurrency=2', '--test-timeout=120000', ...process.argv.slice(2), ...files], { stdio: 'inherit' })
process.exit(result.status ?? 1)

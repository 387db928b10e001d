/**
 * `npm run interop:matrix`: ts-libp2p × {ts, js, go, py, rust} in both roles × transport ×
 * security × muxer, each cell run as libp2p/test-plans transport-interop runs it (run-cell.ts),
 * one after the other (the cells share test-plans' single Redis key, as they do upstream).
 *
 *   npm run interop:matrix -- [--filter S]... [--ignore S]... [--reduced] [--timeout SECONDS] [--concurrency N]
 *                             [--ip 0.0.0.0] [--json FILE] [--readme] [--verbose]
 *
 * --filter / --ignore are test-plans' --name-filter / --name-ignore (substrings of the cell
 * name, e.g. "go x ts" or "quic-v1"). --reduced runs one cell per implementation pair and
 * transport. Results: a table on stdout; JSON in bench/results/interop-matrix.json (or --json);
 * with --readme the markdown table replaces the one in README.md's "Interoperability" section.
 * The exit code is 1 if any cell that ran failed.
 */
import { parseArgs } from 'node:util'
import { readFile, writeFile, mkdir } from 'node:fs/promises'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { generateCells, reducedCells, selectCells } from './cells.ts'
import { IMPLEMENTATIONS } from './implementations.ts'
import { runCell, startRedis, type CellResult } from './run-cell.ts'

const REPO = fileURLToPath(new URL('../../', import.meta.url))
const README = `${REPO}README.md`
const TABLE_START = '<!-- interop-matrix:start -->'
const TABLE_END = '<!-- interop-matrix:end -->'

export interface MatrixOptions {
  filters?: string[]
  ignores?: string[]
  reduced?: boolean
  timeoutSeconds?: number
  ip?: string
  /**
   * Cells at once (default 1, as test-plans runs them); above 1 each cell meets on its own
   * Redis key (TEST_KEY, unified-testing's convention).
   */
  concurrency?: number
  onResult?: (result: CellResult) => void
  onStderr?: (role: 'dialer' | 'listener', text: string) => void
}

/** Runs the selected cells; unsupported and unavailable ones are reported without running. */
export async function runMatrix (opts: MatrixOptions = {}): Promise<CellResult[]> {
  let cells = generateCells(IMPLEMENTATIONS)
  if (opts.reduced === true) cells = reducedCells(cells)
  cells = selectCells(cells, opts.filters ?? [], opts.ignores ?? [])
  const impls = new Map(IMPLEMENTATIONS.map(i => [i.id, i]))
  const redis = await startRedis()
  const results: CellResult[] = []
  const concurrency = opts.concurrency ?? 1
  try {
    let next = 0
    const worker = async (): Promise<void> => {
      while (next < cells.length) {
        const index = next++
        const testKey = concurrency > 1 ? createHash('sha256').update(cells[index].name).digest('hex').slice(0, 8) : undefined
        const result = await runCell(cells[index], impls, { redis, timeoutSeconds: opts.timeoutSeconds ?? 60, ip: opts.ip ?? '0.0.0.0', testKey, onStderr: opts.onStderr })
        results[index] = result
        opts.onResult?.(result)
      }
    }
    await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker))
  } finally {
    await redis.stop()
  }
  return results
}

/** The markdown table: one row per cell that ran or could not, timings in ms. */
export function markdownTable (results: CellResult[]): string {
  const rows = ['| dialer x listener | transport | security | muxer | result | handshake + 1 RTT (ms) | ping RTT (ms) |', '| --- | --- | --- | --- | --- | --- | --- |']
  for (const r of results) {
    const result = r.status === 'pass' ? 'pass' : r.status === 'fail' ? `**fail**: ${escape(r.reason ?? '')}` : `${r.status} (${escape(r.reason ?? '')})`
    rows.push(`| ${r.dialer} x ${r.listener} | ${r.transport} | ${r.security ?? '-'} | ${r.muxer ?? '-'} | ${result} | ${r.handshakePlusOneRTTMillis?.toFixed(1) ?? ''} | ${r.pingRTTMilllis?.toFixed(2) ?? ''} |`)
  }
  return rows.join('\n')
}

function escape (text: string): string {
  return text.replaceAll('|', '\\|').replaceAll('\n', ' ').slice(0, 300)
}

function summary (results: CellResult[]): string {
  const count = (s: CellResult['status']): number => results.filter(r => r.status === s).length
  return `${count('pass')} passed, ${count('fail')} failed, ${count('unsupported')} unsupported, ${count('unavailable')} unavailable`
}

async function main (): Promise<number> {
  const { values } = parseArgs({
    options: {
      filter: { type: 'string', multiple: true, default: [] },
      ignore: { type: 'string', multiple: true, default: [] },
      reduced: { type: 'boolean', default: false },
      concurrency: { type: 'string', default: '1' },
      timeout: { type: 'string', default: '60' },
      ip: { type: 'string', default: '0.0.0.0' },
      json: { type: 'string', default: `${REPO}bench/results/interop-matrix.json` },
      readme: { type: 'boolean', default: false },
      verbose: { type: 'boolean', default: false }
    }
  })
  const timeoutSeconds = Number(values.timeout)
  if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 5) throw new Error('--timeout must be an integer >= 5 (seconds)')
  // Builds first (cached after the first run), as test-plans builds its images before any
  // cell runs: a cell's time limit is for the test, not for a cargo or go build (a changed
  // rust peer once failed its first three cells waiting 60 s for a listener that was compiling).
  const { buildGoPeer, buildRustPeer, cargoAvailable, goAvailable } = await import('../../test/interop/harness.ts')
  if (await goAvailable()) await buildGoPeer()
  if (await cargoAvailable()) await buildRustPeer()
  const started = new Date()
  const results = await runMatrix({
    filters: values.filter,
    ignores: values.ignore,
    reduced: values.reduced,
    concurrency: Number(values.concurrency),
    timeoutSeconds,
    ip: values.ip,
    onResult: (r) => {
      const timing = r.status === 'pass' ? ` ${r.handshakePlusOneRTTMillis} ms / ping ${r.pingRTTMilllis} ms` : r.reason !== undefined ? ` (${r.reason})` : ''
      process.stdout.write(`${r.status.padEnd(11)} ${r.name}${timing}${r.durationMs !== undefined ? ` [${(r.durationMs / 1000).toFixed(1)} s]` : ''}\n`)
    },
    onStderr: values.verbose ? (role, text) => { process.stderr.write(text.replace(/^/gm, `${role}: `)) } : undefined
  })
  process.stdout.write(`${summary(results)}\n`)
  let commit = ''
  try { commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO, encoding: 'utf8' }).trim() } catch { /* not a checkout */ }
  await mkdir(dirname(values.json), { recursive: true })
  await writeFile(values.json, `${JSON.stringify({ date: started.toISOString(), commit, ip: values.ip, timeoutSeconds, filters: values.filter, ignores: values.ignore, reduced: values.reduced, summary: summary(results), results }, null, 2)}\n`)
  process.stdout.write(`JSON: ${values.json}\n`)
  if (values.readme) {
    const readme = await readFile(README, 'utf8')
    const start = readme.indexOf(TABLE_START)
    const end = readme.indexOf(TABLE_END)
    if (start === -1 || end < start) throw new Error(`README.md has no ${TABLE_START} ... ${TABLE_END} block`)
    const block = `${TABLE_START}\n${summary(results)} (${started.toISOString().slice(0, 10)}, commit ${commit}, \`npm run interop:matrix${values.filter.map(f => ` -- --filter '${f}'`).join('')}\`)\n\n${markdownTable(results)}\n`
    await writeFile(README, readme.slice(0, start) + block + readme.slice(end))
    process.stdout.write('README.md table updated\n')
  }
  return results.some(r => r.status === 'fail') ? 1 : 0
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().then((code) => { process.exitCode = code }, (err) => { process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`); process.exitCode = 1 })
}

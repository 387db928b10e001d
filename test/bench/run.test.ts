/**
 * Keeps the benchmark harness (bench/run.ts) from rotting: one quick smoke run with tiny sizes
 * must produce well-formed results. Timing is not asserted, only shape: every expected figure
 * is present, with results from the right sides, and positive numbers.
 */
import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseConfig, parseSize } from '../../bench/lib/config.ts'
import { summarize } from '../../bench/lib/stats.ts'
import type { BenchResult } from '../../bench/lib/report.ts'

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))

function runBench (args: string[], timeoutMs: number): Promise<{ stdout: string, stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [join(REPO_ROOT, 'bench', 'run.ts'), ...args], { cwd: REPO_ROOT, timeout: timeoutMs, env: { ...process.env, BENCH_QUICK: '' } }, (err, stdout, stderr) => {
      if (err !== null) reject(new Error(`bench run failed: ${err.message}\n${stderr}`))
      else resolve({ stdout, stderr })
    })
  })
}

describe('bench harness', () => {
  let dir: string
  let result: BenchResult
  let markdown: string

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ts-libp2p-bench-'))
    await runBench(['--quick', '--out', dir, '--setup', '3', '--streams', '5'], 290_000)
    result = JSON.parse(await readFile(join(dir, 'latest.json'), 'utf8')) as BenchResult
    markdown = await readFile(join(dir, 'latest.md'), 'utf8')
    // its own budget, above npm test's --test-timeout (120 s), which would also bound this hook:
    // the smoke run compiles the peers and runs every section, ~4 minutes on a loaded machine
  }, { timeout: 300_000 })

  after(async () => { await rm(dir, { recursive: true, force: true }) })

  it('records when, where and what was measured', () => {
    assert.ok(!Number.isNaN(Date.parse(result.date)))
    assert.ok(result.machine.cores > 0)
    assert.ok(result.machine.memoryBytes > 0)
    assert.equal(result.machine.node, process.version)
    assert.match(result.commit.sha, /^([0-9a-f]{40}|unknown)$/)
    assert.equal(result.config.quick, true)
    assert.equal(result.config.transferBytes, 2 ** 20)
  })

  it('has every figure, from the right sides, with positive numbers', () => {
    const ids = result.rows.map(r => r.id).sort()
    const expected = [
      ...['noise+yamux', 'tls+yamux', 'noise+mplex', 'plaintext+yamux', 'websockets', 'quic'].flatMap(s => [`throughput/${s}/upload`, `throughput/${s}/download`, `cpu/${s}`]),
      'setup/quic/dial', 'setup/quic/dial-ping',
      'concurrent/upload', 'concurrent/cpu', 'streams/open-echo', 'streams/open-cpu',
      'setup/plain/dial', 'setup/plain/dial-ping', 'setup/identify/dial', 'setup/identify/dial-ping', 'setup/identify/identified',
      'startup/perf-contract', 'startup/perf-contract-wall', 'startup/perf-contract-no-cache', 'startup/cli-ping', 'startup/create-dial',
      'memory/server/rss', 'memory/client/rss', 'memory/server/heap', 'memory/client/heap',
      'cipher/bulkSealGbps', 'cipher/bulkOpenGbps', 'cipher/frameSealGbps', 'cipher/frameOpenGbps'
    ].sort()
    assert.deepEqual(ids, expected)
    for (const row of result.rows) {
      assert.equal(row.failures, undefined, `${row.id}: ${JSON.stringify(row.failures)}`)
      const sides = Object.keys(row.results).sort()
      const want = row.section === 'cipher' ? ['raw'] : row.id.startsWith('setup/identify') || row.id.startsWith('setup/quic') || row.section === 'startup' ? ['js', 'ts'] : ['js', 'raw', 'ts']
      assert.deepEqual(sides, want, row.id)
      for (const [side, r] of Object.entries(row.results)) {
        const where = `${row.id} ${side}`
        assert.ok(r.samples.length > 0, where)
        for (const value of [r.median, r.min, r.max, r.p99, ...r.samples]) {
          assert.equal(typeof value, 'number', where)
          assert.ok(Number.isFinite(value), where)
          // memory growth over a handful of connections can round to a page or less
          if (row.section !== 'memory') assert.ok(value > 0, `${where}: ${value}`)
        }
        assert.ok(r.min <= r.median && r.median <= r.max, where)
      }
      if (row.results.ts !== undefined && row.results.js !== undefined && row.section !== 'memory') assert.ok(row.ratio! > 0, row.id)
    }
    const repeated = result.rows.find(r => r.id === 'throughput/noise+yamux/upload')!
    assert.equal(repeated.results.ts!.samples.length, result.config.repeat)
    assert.equal(result.rows.find(r => r.id === 'setup/plain/dial-ping')!.results.js!.samples.length, 3)
  })

  it('renders the markdown table with one line per figure', () => {
    assert.match(markdown, /\| figure \| unit \| ts-libp2p \(ours\) \| js-libp2p \| reference \| ours\/js \|/)
    assert.ok(markdown.includes(result.commit.sha))
    const tableRows = markdown.split('\n').filter(line => line.startsWith('| ') && !line.startsWith('| figure'))
    assert.equal(tableRows.length, result.rows.length)
  })
})

describe('bench config', () => {
  it('parses sizes, flags over environment, and rejects unknown input', () => {
    assert.equal(parseSize('1GiB'), 2 ** 30)
    assert.equal(parseSize('512KiB'), 512 * 1024)
    assert.equal(parseSize('1000'), 1000)
    assert.throws(() => parseSize('1 GB'))
    const full = parseConfig([], {})
    assert.equal(full.transferBytes, 2 ** 30)
    assert.equal(full.setupCount, 200)
    const quick = parseConfig(['--repeat', '4'], { BENCH_QUICK: '1', BENCH_REPEAT: '7', BENCH_BYTES: '2MiB' })
    assert.equal(quick.quick, true)
    assert.equal(quick.repeat, 4)
    assert.equal(quick.transferBytes, 2 * 2 ** 20)
    assert.throws(() => parseConfig(['--nope', '1'], {}), /unknown flag/)
    assert.throws(() => parseConfig(['--sides', 'ts,go'], {}), /unknown "go"/)
    assert.throws(() => parseConfig(['--repeat', '0'], {}), /positive integer/)
    assert.equal(full.resourceManager, true)
    assert.equal(parseConfig(['--resource-manager', 'off'], {}).resourceManager, false)
    assert.equal(parseConfig([], { BENCH_RESOURCE_MANAGER: 'off' }).resourceManager, false)
    assert.throws(() => parseConfig(['--resource-manager', 'no'], {}), /on, off or both/)
    assert.deepEqual(full.sides, ['ts', 'js', 'raw'], 'our peers without the resource manager only on request')
    const both = parseConfig(['--resource-manager', 'both'], {})
    assert.equal(both.resourceManager, true)
    assert.deepEqual(both.sides, ['ts', 'ts-off', 'js', 'raw'])
  })

  it('summarizes samples', () => {
    assert.deepEqual(summarize([3, 1, 2]), { median: 2, min: 1, max: 3, p99: 3, n: 3 })
    assert.equal(summarize([1, 2, 3, 4]).median, 2.5)
    const hundred = Array.from({ length: 100 }, (_, i) => i + 1)
    assert.equal(summarize(hundred).p99, 99)
    assert.throws(() => summarize([]))
  })
})

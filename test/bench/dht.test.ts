/**
 * Keeps the DHT benchmark (bench/dht/run.ts) from rotting: one quick run with a tiny network
 * must produce well-formed results for both sides. No timing is asserted, only shape.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseDhtConfig } from '../../bench/dht/run.ts'
import type { DhtBenchResult, KindSummary } from '../../bench/dht/report.ts'

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))

function runBench (args: string[], timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [join(REPO_ROOT, 'bench', 'dht', 'run.ts'), ...args], { cwd: REPO_ROOT, timeout: timeoutMs, env: { ...process.env, BENCH_QUICK: '' } }, (err, _stdout, stderr) => {
      if (err !== null) reject(new Error(`bench:dht failed: ${err.message}\n${stderr}`))
      else resolve()
    })
  })
}

describe('DHT bench harness', () => {
  let dir: string
  let result: DhtBenchResult
  let markdown: string

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ts-libp2p-bench-dht-'))
    await runBench(['--quick', '--out', dir], 60_000)
    result = JSON.parse(await readFile(join(dir, 'dht.json'), 'utf8')) as DhtBenchResult
    markdown = await readFile(join(dir, 'dht.md'), 'utf8')
  })

  after(async () => { await rm(dir, { recursive: true, force: true }) })

  it('quick mode and flags parse as documented', () => {
    const quick = parseDhtConfig(['--quick'])
    assert.deepEqual([quick.sizes, quick.lookups, quick.keys, quick.sides], [[24], 3, 2, ['ts', 'js']])
    const full = parseDhtConfig(['--sizes', '500,1000', '--lookups', '7', '--sides', 'ts'])
    assert.deepEqual([full.sizes, full.lookups, full.sides, full.quick], [[500, 1000], 7, ['ts'], false])
    assert.throws(() => parseDhtConfig(['--sizes', '2']), /--sizes/)
    assert.throws(() => parseDhtConfig(['--sides', 'go']), /--sides/)
  })

  it('records both sides at the quick size, with well-formed lookup figures', () => {
    assert.equal(result.config.quick, true)
    assert.ok(result.machine.cores > 0)
    assert.match(result.commit.sha, /^([0-9a-f]{40}|unknown)$/)
    assert.deepEqual(result.results.map(r => `${r.side}/${r.size}`).sort(), ['js/24', 'ts/24'])
    for (const r of result.results) {
      assert.ok(!('error' in r), `${r.side} failed: ${'error' in r ? r.error : ''}`)
      if ('error' in r) continue
      assert.ok(r.build.ms > 0 && r.build.rssBytes > 0 && r.build.peakRssBytes >= r.build.rssBytes)
      for (const kind of [r.findPeer, r.findProviders] as KindSummary[]) {
        assert.equal(kind.attempted, 3)
        assert.ok(kind.succeeded <= kind.attempted)
        if (kind.succeeded === 0) continue
        for (const s of [kind.latencyMs, kind.messages, kind.hops]) {
          assert.ok(s !== undefined)
          assert.equal(s.n, kind.succeeded)
          assert.ok(s.min >= 0 && s.min <= s.median && s.median <= s.p99 && s.p99 <= s.max)
        }
      }
      // findPeer never has the answer locally (the local store is not used): it always asks
      if (r.findPeer.messages !== undefined) assert.ok(r.findPeer.messages.min >= 1)
    }
  })

  it('renders a markdown report with both tables and the build table', () => {
    assert.match(markdown, /^# DHT lookups/)
    assert.match(markdown, /## findPeer/)
    assert.match(markdown, /## findProviders/)
    assert.match(markdown, /\| 24 \| ts \|/)
    assert.match(markdown, /\| 24 \| js \|/)
  })
})

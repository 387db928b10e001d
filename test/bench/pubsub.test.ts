/**
 * Keeps the pubsub benchmark (bench/pubsub/run.ts) from rotting: a quick run with a tiny
 * network must produce well-formed results for both sides. Timings are not asserted, only
 * shape: every figure present, from both sides, with positive finite numbers.
 */
import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { PubSubBenchResult } from '../../bench/pubsub/run.ts'

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))

describe('pubsub bench', () => {
  let dir: string
  let result: PubSubBenchResult
  let markdown: string

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ts-libp2p-bench-pubsub-'))
    await new Promise<void>((resolve, reject) => {
      execFile(process.execPath, [join(REPO_ROOT, 'bench', 'pubsub', 'run.ts'), '--quick', '--out', dir], { cwd: REPO_ROOT, timeout: 150_000 }, (err, _stdout, stderr) => {
        if (err !== null) reject(new Error(`bench:pubsub failed: ${err.message}\n${stderr}`))
        else resolve()
      })
    })
    result = JSON.parse(await readFile(join(dir, 'pubsub.json'), 'utf8')) as PubSubBenchResult
    markdown = await readFile(join(dir, 'pubsub.md'), 'utf8')
    // above npm test's --test-timeout (120 s): two runs (scoring on, then off) on a loaded machine
  }, { timeout: 160_000 })

  after(async () => { await rm(dir, { recursive: true, force: true }) })

  it('describes the run and the networks both sides built', () => {
    assert.ok(!Number.isNaN(Date.parse(result.date)))
    assert.equal(result.config.quick, true)
    assert.equal(result.config.nodes, 12)
    assert.deepEqual(result.config.sides, ['ts', 'js'])
    assert.match(result.config.transport, /TCP/)
    const ts = result.networks.ts!
    const js = result.networks.js!
    assert.equal(ts.connections, js.connections, 'the same topology on both sides')
    for (const n of [ts, js]) {
      assert.ok(n.connections >= result.config.nodes)
      assert.ok(n.meshMin >= 1 && n.meshMedian >= n.meshMin)
    }
  })

  it('has every figure from both sides, with positive numbers (lost messages: a share from 0 to 100)', () => {
    const figures = ['throughput', 'deliveries', 'lost', 'cpu', 'latency/delivery', 'latency/all']
    // scoring on for both sides, then off for both
    assert.deepEqual(result.config.scoring, ['on', 'off'])
    assert.deepEqual(result.rows.map(r => r.id), [...figures.map(f => `pubsub/${f}`), ...figures.map(f => `pubsub/no-scoring/${f}`)])
    assert.ok(result.networks['ts/no-scoring'] !== undefined && result.networks['js/no-scoring'] !== undefined)
    for (const row of result.rows) {
      assert.deepEqual(Object.keys(row.results).sort(), ['js', 'ts'], row.id)
      for (const [side, r] of Object.entries(row.results)) {
        for (const value of [r.median, r.min, r.max, r.p99, ...r.samples]) {
          if (row.id.endsWith('/lost')) assert.ok(value >= 0 && value <= 100, `${row.id} ${side}: ${value}`)
          else assert.ok(Number.isFinite(value) && value > 0, `${row.id} ${side}: ${value}`)
        }
        assert.ok(r.min <= r.median && r.median <= r.max)
      }
      // a share of lost messages has no meaningful ratio (both sides usually lose none)
      if (row.id.endsWith('/lost')) assert.equal(row.ratio, undefined)
      else assert.ok(row.ratio! > 0)
    }
    const n = result.config.nodes
    const perDelivery = result.rows.find(r => r.id === 'pubsub/latency/delivery')!
    // one sample per delivery: every subscriber of every latency message
    assert.equal(perDelivery.results.ts!.samples.length, result.config.latencyMessages * (n - 1))
    assert.equal(perDelivery.results.js!.samples.length, result.config.latencyMessages * (n - 1))
  })

  it('renders one table line per figure', () => {
    assert.match(markdown, /\| figure \| unit \| ts-libp2p \(ours\) \| js-libp2p \| ours\/js \|/)
    assert.equal(markdown.split('\n').filter(l => l.startsWith('| ') && !l.startsWith('| figure')).length, result.rows.length)
  })
})

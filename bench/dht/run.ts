/**
 * `npm run bench:dht`: DHT lookup latency, messages and hops per lookup at 500, 1,000 and
 * 2,000 nodes, ts-libp2p side by side with js-libp2p (@libp2p/kad-dht). Each (side, size)
 * runs in its own process (bench/dht/sim-ts.ts, sim-js.ts), one after the other, so the sides
 * never share a heap or compete for the CPU; a side that runs out of memory or time is
 * recorded as not fitting. Results go to <out>/dht.json and dht.md.
 *
 *   node bench/dht/run.ts                         # 500, 1000, 2000 nodes, 100 lookups of each kind
 *   node bench/dht/run.ts --quick                 # smoke run: 24 nodes, 3 lookups, 2 provided keys
 *   node bench/dht/run.ts --sizes 500,1000 --lookups 200 --sides ts --out /tmp/dht
 *
 * Flags: --sizes N,N,... --lookups N --keys N (provided keys, default 20) --sides ts,js --seed N --out DIR --max-heap-mb N
 * (--max-old-space-size of each run, default 16384) --run-timeout S (per run, default 1800).
 */
import { spawn } from 'node:child_process'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gitCommit, loadAverage, machineInfo } from '../lib/report.ts'
import { renderDhtMarkdown, summarizeRun, type DhtBenchResult, type DhtSideResult } from './report.ts'
import type { SideRun } from './lookups.ts'

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))

export interface DhtBenchConfig {
  quick: boolean
  sizes: number[]
  lookups: number
  keys: number
  sides: Array<'ts' | 'js'>
  seed: number
  outDir: string
  maxHeapMb: number
  runTimeoutSeconds: number
}

export function parseDhtConfig (argv: string[]): DhtBenchConfig {
  const value = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`)
    return i === -1 ? undefined : argv[i + 1]
  }
  const quick = argv.includes('--quick') || process.env.BENCH_QUICK === '1'
  const list = (text: string | undefined): number[] | undefined => text?.split(',').map(Number)
  const config: DhtBenchConfig = {
    quick,
    sizes: list(value('sizes')) ?? (quick ? [24] : [500, 1000, 2000]),
    lookups: Number(value('lookups') ?? (quick ? 3 : 100)),
    keys: Number(value('keys') ?? (quick ? 2 : 20)),
    sides: (value('sides')?.split(',') ?? ['ts', 'js']) as Array<'ts' | 'js'>,
    seed: Number(value('seed') ?? 0x5eed),
    outDir: value('out') ?? join(REPO_ROOT, 'bench', 'results'),
    maxHeapMb: Number(value('max-heap-mb') ?? 16384),
    runTimeoutSeconds: Number(value('run-timeout') ?? 1800)
  }
  if (config.sizes.some(n => !Number.isInteger(n) || n < 3)) throw new Error('--sizes: integers >= 3')
  if (!Number.isInteger(config.lookups) || config.lookups < 1) throw new Error('--lookups: an integer >= 1')
  if (!Number.isInteger(config.keys) || config.keys < 1) throw new Error('--keys: an integer >= 1')
  if (config.sides.some(s => s !== 'ts' && s !== 'js')) throw new Error('--sides: ts and/or js')
  return config
}

/** Runs one side at one size in its own process; its last stdout line is the SideRun. */
async function runOne (config: DhtBenchConfig, side: 'ts' | 'js', size: number): Promise<SideRun> {
  const script = join(REPO_ROOT, 'bench', 'dht', `sim-${side}.ts`)
  const args = [`--max-old-space-size=${config.maxHeapMb}`, '--expose-gc', script, '--size', String(size), '--lookups', String(config.lookups), '--keys', String(config.keys), '--seed', String(config.seed)]
  return await new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d })
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr = (stderr + d).slice(-4000) })
    const timer = setTimeout(() => { child.kill('SIGKILL') }, config.runTimeoutSeconds * 1000)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      const last = stdout.trim().split('\n').at(-1) ?? ''
      if (code === 0 && last.startsWith('{')) {
        resolve(JSON.parse(last) as SideRun)
        return
      }
      const why = signal === 'SIGKILL' ? `did not finish within ${config.runTimeoutSeconds} s` : /heap out of memory|Allocation failed/i.test(stderr) ? `ran out of memory (heap limit ${config.maxHeapMb} MB)` : `exited with ${code ?? signal}`
      reject(new Error(`${why}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`))
    })
  })
}

async function main (): Promise<void> {
  const config = parseDhtConfig(process.argv.slice(2))
  const startedAt = Date.now()
  const loadAtStart = loadAverage()
  const results: DhtSideResult[] = []
  for (const size of config.sizes) {
    for (const side of config.sides) {
      process.stderr.write(`[bench:dht ${((Date.now() - startedAt) / 1000).toFixed(0).padStart(5)} s] ${side}, ${size} nodes, ${config.lookups} lookups of each kind\n`)
      try {
        results.push(summarizeRun(await runOne(config, side, size)))
      } catch (err) {
        results.push({ side, size, lookups: config.lookups, error: (err as Error).message })
      }
    }
  }
  const result: DhtBenchResult = {
    date: new Date().toISOString(),
    machine: machineInfo(loadAtStart),
    commit: gitCommit(REPO_ROOT),
    durationSeconds: (Date.now() - startedAt) / 1000,
    config: { quick: config.quick, sizes: config.sizes, lookups: config.lookups, keys: config.keys, sides: config.sides, seed: config.seed },
    results
  }
  await mkdir(config.outDir, { recursive: true })
  await writeFile(join(config.outDir, 'dht.json'), JSON.stringify(result, null, 2) + '\n')
  await writeFile(join(config.outDir, 'dht.md'), renderDhtMarkdown(result))
  process.stderr.write(`[bench:dht] wrote ${join(config.outDir, 'dht.json')} and dht.md\n`)
}

if (import.meta.url === `file://${process.argv[1]}`) await main()

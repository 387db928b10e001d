/**
 * `npm run bench:rm:instructions`: the resource manager's cost per stream open as an instruction
 * count, which, unlike wall-clock or even CPU time, does not move with what else the machine
 * runs. Each count is one process under valgrind (cachegrind, no cache simulation) running
 * fixed-work.ts: a pair of nodes (Noise + Yamux over TCP, or QUIC), a warm-up, then N stream
 * opens. Whole-process counts include start-up, compilation and GC, so the figure is the
 * marginal cost of an open: (count at the larger N - count at the smaller N) / (difference of
 * the Ns), with the resource manager on and off; the cost is on / off - 1. V8 runs with
 * --single-threaded (compilation on the main thread) and --predictable-gc-schedule: without
 * it, GCs started by timers (memory reducer, idle tasks) come far more often under valgrind's
 * ~50x slowdown and at moments that vary from run to run, and one more full GC (~100 M
 * instructions) outweighed the whole difference between on and off; with it, the GC schedule
 * follows allocation only (the same number of GCs on and off at each N). What still varies
 * (socket reads split by timing) is taken care of by the Ns being far apart and, with
 * `--repeat`, a median over runs taken in turns (off-on, then on-off).
 *
 *   node bench/resource-manager/instructions.ts                 # N = 400 and 4000, 1 run each
 *   node bench/resource-manager/instructions.ts --quick         # N = 100 and 400, 1 run each
 *
 * Flags: --small N, --large N, --repeat N, --stacks noise+yamux,quic, --out DIR
 * (bench/results). About 10 minutes per repetition on a quiet machine.
 * Results: <out>/resource-manager-instructions.json and .md.
 */
import { spawn, spawnSync } from 'node:child_process'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseBenchFlags } from '../lib/flags.ts'
import { gitCommit, loadAverage, machineInfo } from '../lib/report.ts'
import { STACKS } from './pair.ts'
import type { Side, Stack } from './pair.ts'

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))
const FIXED_WORK = join(REPO_ROOT, 'bench', 'resource-manager', 'fixed-work.ts')

interface Config { small: number, large: number, repeat: number, stacks: Stack[], out: string, quick: boolean }

function parseArgs (argv: string[]): Config {
  const flags = parseBenchFlags(argv, ['small', 'large', 'repeat', 'stacks', 'out'])
  const stacks = (flags.get('stacks') ?? 'noise+yamux').split(',')
  for (const stack of stacks) if (!(STACKS as readonly string[]).includes(stack)) throw new Error(`unknown stack ${stack} (${STACKS.join(', ')})`)
  const small = flags.int('small', 400, 100)
  const large = flags.int('large', 4000, 400)
  if (large <= small) throw new Error('--large must be above --small')
  return { small, large, repeat: flags.int('repeat', 1, 1), stacks: stacks as Stack[], out: flags.get('out') ?? join(REPO_ROOT, 'bench', 'results'), quick: flags.quick }
}

function ensureValgrind (): void {
  if (spawnSync('valgrind', ['--version']).status === 0) return
  if (process.getuid?.() === 0) spawnSync('bash', [join(REPO_ROOT, 'scripts', 'install-system-packages.sh'), 'valgrind'], { stdio: 'inherit' })
  if (spawnSync('valgrind', ['--version']).status !== 0) throw new Error('valgrind is not installed (scripts/install-system-packages.sh valgrind, as root)')
}

/** Instructions of one fixed-work.ts process. */
async function count (stack: Stack, side: Side, streams: number): Promise<number> {
  const args = ['--tool=cachegrind', '--cache-sim=no', '--cachegrind-out-file=/dev/null', '--smc-check=all-non-file',
    process.execPath, '--single-threaded', '--predictable-gc-schedule', FIXED_WORK, '--stack', stack, '--side', side, '--bytes', '0', '--streams', String(streams)]
  const child = spawn('valgrind', args, { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (text: string) => { stderr += text })
  const code = await new Promise<number | null>((resolve, reject) => { child.once('error', reject); child.once('close', resolve) })
  const refs = /I\s+refs:\s+([\d,]+)/.exec(stderr)
  if (code !== 0 || refs === null) throw new Error(`fixed-work ${stack} ${side} ${streams} failed (exit ${code}):\n${stderr.slice(-2000)}`)
  return Number(refs[1].replaceAll(',', ''))
}

function median (values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

interface StackResult {
  stack: Stack
  /** Every count, by side and N. */
  counts: Record<Side, Record<string, number[]>>
  /** Marginal instructions per open (medians of the counts). */
  perOpen: Record<Side, number>
  cost: number
}

async function measure (stack: Stack, config: Config): Promise<StackResult> {
  const counts: StackResult['counts'] = { off: {}, on: {} }
  for (let rep = 0; rep < config.repeat; rep++) {
    const order: Side[] = rep % 2 === 0 ? ['off', 'on'] : ['on', 'off']
    for (const n of [config.small, config.large]) {
      for (const side of order) {
        const value = await count(stack, side, n)
        ;(counts[side][n] ??= []).push(value)
        process.stderr.write(`[bench:rm:instructions] ${stack} ${side} ${n} opens: ${value.toLocaleString('en-US')}\n`)
      }
    }
  }
  const perOpen = (side: Side): number => (median(counts[side][config.large]) - median(counts[side][config.small])) / (config.large - config.small)
  const result = { off: perOpen('off'), on: perOpen('on') }
  return { stack, counts, perOpen: result, cost: result.on / result.off - 1 }
}

const LABELS: Record<Stack, string> = { 'noise+yamux': 'TCP + Noise + Yamux', quic: 'QUIC v1' }

function renderMarkdown (results: StackResult[], config: Config, commit: { sha: string, dirty: boolean }, load: { start: number, end: number }): string {
  const k = (n: number): string => `${(n / 1000).toFixed(1)} K`
  const lines = ['# Resource manager on vs off: instructions per stream open (valgrind)', '',
    ...(config.quick ? ['QUICK run: at these few opens compilation and warm-up still differ between the two counts; the figure only shows the tool works.', ''] : []),
    `- commit: ${commit.sha}${commit.dirty ? ' (with uncommitted changes)' : ''}; load average at start / end ${load.start} / ${load.end} (instruction counts do not depend on it)`,
    `- \`valgrind --tool=cachegrind --cache-sim=no node --single-threaded --predictable-gc-schedule bench/resource-manager/fixed-work.ts --bytes 0 --streams N\`, N = ${config.small} and ${config.large}, ${config.repeat} run(s) each, in turns; per open = (median count at ${config.large} - median count at ${config.small}) / ${config.large - config.small}: whole processes, both peers, GC and compilation included.`, '',
    '| stack | per open, off | per open, on | cost |', '|---|---|---|---|']
  for (const r of results) lines.push(`| ${LABELS[r.stack]} | ${k(r.perOpen.off)} | ${k(r.perOpen.on)} | **${r.cost >= 0 ? '+' : ''}${(r.cost * 100).toFixed(1)} %** |`)
  lines.push('', 'Counts:', '', '| stack | resource manager | opens | instructions |', '|---|---|---|---|')
  for (const r of results) {
    for (const side of ['off', 'on'] as const) {
      for (const n of [config.small, config.large]) lines.push(`| ${LABELS[r.stack]} | ${side} | ${n} | ${r.counts[side][n].map(v => v.toLocaleString('en-US')).join(', ')} |`)
    }
  }
  return lines.join('\n') + '\n'
}

const config = parseArgs(process.argv.slice(2))
ensureValgrind()
const loadAtStart = loadAverage()
const results: StackResult[] = []
for (const stack of config.stacks) results.push(await measure(stack, config))
const commit = gitCommit(REPO_ROOT)
const load = { start: loadAtStart, end: loadAverage() }
await mkdir(config.out, { recursive: true })
await writeFile(join(config.out, 'resource-manager-instructions.json'), JSON.stringify({ date: new Date().toISOString(), machine: machineInfo(loadAtStart), commit, load, config, results }, null, 2) + '\n')
const md = renderMarkdown(results, config, commit, load)
await writeFile(join(config.out, 'resource-manager-instructions.md'), md)
process.stdout.write(md)

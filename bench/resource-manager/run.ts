/**
 * `npm run bench:rm`: what the resource manager costs, measured so that a 2 % difference can show
 * on a loaded 2-core machine. Wall-clock rates here swing ±10-20 % between runs (other processes
 * take the cores), more than the bar, so the figure is CPU time (process.cpuUsage: user +
 * system, both peers live in this process) spent per MiB moved and per stream opened, which
 * depends far less on what else runs. Pairs of ts-libp2p nodes on loopback, one with the
 * resource manager (defaults) and one with `resourceManager: false`:
 * - transfer: one stream sends `--bytes` to a sink that answers once it read everything;
 * - stream open: `--streams` streams opened one after another on one connection (multistream-
 *   select round trip included), then closed.
 * Each repetition measures both sides back to back, in the order off-on then on-off (ABBA), and
 * yields one paired ratio on/off per figure; the cost is the median of those ratios minus one,
 * with its spread (min, max, interquartile range) so a reader sees how far one figure can be
 * trusted. Stacks: TCP + Noise + Yamux and QUIC.
 *
 *   node bench/resource-manager/run.ts            # 64 MiB, 2000 streams, 12 repetitions
 *   node bench/resource-manager/run.ts --quick    # 8 MiB, 200 streams, 4 repetitions
 *
 * Flags: --bytes N, --streams N, --repeat N, --stacks noise+yamux,quic, --out DIR
 * (bench/results). Results: <out>/resource-manager.json and resource-manager.md.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { summarize } from '../lib/stats.ts'
import { gitCommit, loadAverage, machineInfo } from '../lib/report.ts'
import { STACKS, MiB, makePair, transfer, openStreams } from './pair.ts'
import { measureDirectCost } from './direct-cost.ts'
import type { DirectCost } from './direct-cost.ts'
import type { Stack, Side, Pair, Measure } from './pair.ts'
import { parseBenchFlags } from '../lib/flags.ts'

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))


interface Config { bytes: number, streams: number, repeat: number, stacks: Stack[], out: string, quick: boolean }

function parseArgs (argv: string[]): Config {
  const flags = parseBenchFlags(argv, ['bytes', 'streams', 'repeat', 'stacks', 'out'])
  const { quick, int } = flags
  const stacks = (flags.get('stacks') ?? STACKS.join(',')).split(',')
  for (const stack of stacks) if (!(STACKS as readonly string[]).includes(stack)) throw new Error(`unknown stack ${stack} (${STACKS.join(', ')})`)
  const repeat = int('repeat', 12, 4)
  // ABBA needs an even number of repetitions
  return { bytes: int('bytes', 64 * MiB, 8 * MiB), streams: int('streams', 2000, 200), repeat: repeat + (repeat % 2), stacks: stacks as Stack[], out: flags.get('out') ?? join(REPO_ROOT, 'bench', 'results'), quick }
}

/** Paired ratios on/off, one per repetition, and their spread. */
interface RatioSummary { median: number, min: number, max: number, q1: number, q3: number, ratios: number[] }

function quantile (sorted: number[], q: number): number {
  const at = (sorted.length - 1) * q
  const low = Math.floor(at)
  return sorted[low] + (sorted[Math.min(low + 1, sorted.length - 1)] - sorted[low]) * (at - low)
}

function ratioSummary (on: number[], off: number[]): RatioSummary {
  const ratios = on.map((value, i) => value / off[i])
  const sorted = [...ratios].sort((a, b) => a - b)
  return { median: quantile(sorted, 0.5), min: sorted[0], max: sorted[sorted.length - 1], q1: quantile(sorted, 0.25), q3: quantile(sorted, 0.75), ratios }
}

interface StackResult {
  stack: Stack
  samples: Record<Side, { transfer: Measure[], open: Measure[] }>
  cpuPerMiB: RatioSummary
  cpuPerOpen: RatioSummary
  wallPerMiB: RatioSummary
  wallPerOpen: RatioSummary
  medians: Record<Side, { cpuMicrosPerMiB: number, cpuMicrosPerOpen: number, wallMiBs: number, wallMicrosPerOpen: number }>
  /** The resource manager's own work per MiB and per open, counted (direct-cost.ts). */
  direct: DirectCost
  /** direct / the CPU time of the same work with the resource manager off. */
  directShare: { perMiB: number, perOpen: number, inPlacePerOpen: number }
}

async function measureStack (stack: Stack, config: Config): Promise<StackResult> {
  // two pairs per side made in the order on, off, off, on: a pair's place in the process biased
  // timings (bench:metrics saw it), so each side has an early and a late pair, used in turn
  const made: Pair[] = []
  for (const side of ['on', 'off', 'off', 'on'] as const) made.push(await makePair(stack, side))
  const pairsOf: Record<Side, Pair[]> = { on: [made[0], made[3]], off: [made[1], made[2]] }
  const samples: StackResult['samples'] = { on: { transfer: [], open: [] }, off: { transfer: [], open: [] } }
  try {
    for (const pair of made) {
      await transfer(pair.connection, Math.min(config.bytes, 4 * MiB))
      await openStreams(pair.connection, Math.min(config.streams, 100))
    }
    for (let r = 0; r < config.repeat; r++) {
      const order: Side[] = r % 2 === 0 ? ['off', 'on'] : ['on', 'off']
      for (const side of order) {
        const pair = pairsOf[side][(r >> 1) % 2]
        samples[side].transfer.push(await transfer(pair.connection, config.bytes))
        samples[side].open.push(await openStreams(pair.connection, config.streams))
      }
      process.stderr.write(`[bench:rm] ${stack} repetition ${r + 1}/${config.repeat}\n`)
    }
  } finally {
    for (const pair of made) {
      await pair.client.stop()
      await pair.server.stop()
    }
  }
  const direct = await measureDirectCost(stack, config.bytes, config.streams)
  const mib = config.bytes / MiB
  const pick = (side: Side, figure: 'transfer' | 'open', key: keyof Measure): number[] => samples[side][figure].map(m => m[key])
  const median = (values: number[]): number => summarize(values).median
  const medians = (side: Side): StackResult['medians'][Side] => ({
    cpuMicrosPerMiB: median(pick(side, 'transfer', 'cpuMicros')) / mib,
    cpuMicrosPerOpen: median(pick(side, 'open', 'cpuMicros')) / config.streams,
    wallMiBs: mib / (median(pick(side, 'transfer', 'wallMicros')) / 1e6),
    wallMicrosPerOpen: median(pick(side, 'open', 'wallMicros')) / config.streams
  })
  return {
    stack,
    samples,
    cpuPerMiB: ratioSummary(pick('on', 'transfer', 'cpuMicros'), pick('off', 'transfer', 'cpuMicros')),
    cpuPerOpen: ratioSummary(pick('on', 'open', 'cpuMicros'), pick('off', 'open', 'cpuMicros')),
    wallPerMiB: ratioSummary(pick('on', 'transfer', 'wallMicros'), pick('off', 'transfer', 'wallMicros')),
    wallPerOpen: ratioSummary(pick('on', 'open', 'wallMicros'), pick('off', 'open', 'wallMicros')),
    medians: { on: medians('on'), off: medians('off') },
    direct,
    directShare: { perMiB: direct.nsPerMiB / 1000 / medians('off').cpuMicrosPerMiB, perOpen: direct.nsPerOpen / 1000 / medians('off').cpuMicrosPerOpen, inPlacePerOpen: direct.inPlaceNsPerOpen / 1000 / medians('off').cpuMicrosPerOpen }
  }
}

const STACK_LABELS: Record<Stack, string> = { 'noise+yamux': 'TCP + Noise + Yamux', quic: 'QUIC v1' }

function pct (ratio: number): string {
  const value = (ratio - 1) * 100
  return `${value >= 0 ? '+' : ''}${value.toFixed(2)} %`
}

function costCell (summary: RatioSummary): string {
  return `**${pct(summary.median)}** (IQR ${pct(summary.q1)} .. ${pct(summary.q3)}; min ${pct(summary.min)}, max ${pct(summary.max)})`
}

function renderMarkdown (results: StackResult[], config: Config, loadAtStart: number): string {
  const lines = [
    '# Resource manager on vs off (one process, loopback)',
    '',
    `${config.repeat} repetitions in ABBA order; ${config.bytes / MiB} MiB per transfer, ${config.streams} streams per stream-open run; load average at start ${loadAtStart.toFixed(2)}. Cost = median of the per-repetition ratios on/off, minus one; CPU = user + system time of the process holding both peers. Bars: < 2 % of throughput (CPU per MiB), < 5 % of stream open (CPU per open).`,
    '',
    '| stack | figure | RM off | RM on | cost: median paired ratio (spread) |',
    '|---|---|---|---|---|'
  ]
  for (const r of results) {
    const label = STACK_LABELS[r.stack]
    lines.push(`| ${label} | CPU per MiB moved, us | ${r.medians.off.cpuMicrosPerMiB.toFixed(0)} | ${r.medians.on.cpuMicrosPerMiB.toFixed(0)} | ${costCell(r.cpuPerMiB)} |`)
    lines.push(`| ${label} | CPU per stream open, us | ${r.medians.off.cpuMicrosPerOpen.toFixed(1)} | ${r.medians.on.cpuMicrosPerOpen.toFixed(1)} | ${costCell(r.cpuPerOpen)} |`)
    lines.push(`| ${label} | wall clock: throughput MiB/s (cost: time per MiB) | ${r.medians.off.wallMiBs.toFixed(1)} | ${r.medians.on.wallMiBs.toFixed(1)} | ${costCell(r.wallPerMiB)} |`)
    lines.push(`| ${label} | wall clock: stream open, us | ${r.medians.off.wallMicrosPerOpen.toFixed(1)} | ${r.medians.on.wallMicrosPerOpen.toFixed(1)} | ${costCell(r.wallPerOpen)} |`)
  }
  lines.push('', 'Its own work, counted (calls into it, both peers, times the CPU cost of one call in a loop of a million), as a share of the CPU time the same work takes with it off:', '',
    '| stack | per MiB moved | per stream open, loop | per stream open, timed in place (open + setProtocol + done medians) |', '|---|---|---|---|')
  for (const r of results) {
    const d = r.direct
    lines.push(`| ${STACK_LABELS[r.stack]} | ${d.memoryCallsPerMiB.toFixed(2)} memory calls x ${d.nsPerMemoryCall.toFixed(0)} ns = ${d.nsPerMiB.toFixed(0)} ns: **${(r.directShare.perMiB * 100).toFixed(3)} %** | ${d.streamScopesPerOpen.toFixed(2)} stream scopes x ${d.nsPerStreamScope.toFixed(0)} ns = ${d.nsPerOpen.toFixed(0)} ns: **${(r.directShare.perOpen * 100).toFixed(3)} %** | ${d.streamScopesPerOpen.toFixed(2)} x (${d.inPlace.openStream.toFixed(0)} + ${d.inPlace.setProtocol.toFixed(0)} + ${d.inPlace.done.toFixed(0)}) ns = ${d.inPlaceNsPerOpen.toFixed(0)} ns: **${(r.directShare.inPlacePerOpen * 100).toFixed(2)} %** |`)
  }
  return lines.join('\n') + '\n'
}

async function main (): Promise<void> {
  const config = parseArgs(process.argv.slice(2))
  const loadAtStart = loadAverage()
  const results: StackResult[] = []
  for (const stack of config.stacks) results.push(await measureStack(stack, config))
  const md = renderMarkdown(results, config, loadAtStart)
  const result = {
    bench: 'resource-manager',
    config: { bytes: config.bytes, streams: config.streams, repeat: config.repeat, stacks: config.stacks, quick: config.quick },
    git: gitCommit(REPO_ROOT),
    machine: machineInfo(loadAtStart),
    loadAtEnd: loadAverage(),
    results
  }
  await mkdir(config.out, { recursive: true })
  await writeFile(join(config.out, 'resource-manager.json'), JSON.stringify(result, null, 2) + '\n')
  await writeFile(join(config.out, 'resource-manager.md'), md)
  process.stdout.write(md)
}

await main()

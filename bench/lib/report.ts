/**
 * The benchmark's result document (bench/results/latest.json) and its markdown rendering
 * (latest.md): one row per figure, each with the ts-libp2p, js-libp2p and reference results,
 * plus the date, machine and git commit the numbers belong to.
 */
import { execFileSync } from 'node:child_process'
import { cpus, loadavg, release, totalmem } from 'node:os'
import type { BenchConfig, Side } from './config.ts'
import type { Summary } from './stats.ts'

export interface SideResult extends Summary {
  samples: number[]
  /** Extra per-side numbers (e.g. the CPU split between client and server). */
  detail?: Record<string, unknown>
}

export interface Row {
  id: string
  section: string
  label: string
  unit: string
  better: 'higher' | 'lower'
  /** Show the p99 next to the median (latency distributions). */
  showP99?: boolean
  results: Partial<Record<Side, SideResult>>
  /** ts median / js median, when both ran. */
  ratio?: number
  /** Error messages of failed repetitions, per side (the figure uses the others). */
  failures?: Partial<Record<Side, string[]>>
  /** The resource manager's cost as the median of paired per-round ratios ts / ts-off - 1, where the rows pair up. */
  pairedCost?: number
}

export interface Machine {
  cpu: string
  cores: number
  memoryBytes: number
  node: string
  os: string
  /** 1-minute load average when the run started and when it ended: other work on the machine skews figures. */
  loadAverage: { start: number, end: number }
}

export interface BenchResult {
  date: string
  machine: Machine
  commit: { sha: string, dirty: boolean }
  durationSeconds: number
  config: Omit<BenchConfig, 'outDir' | 'debug' | 'cpuProfDir'>
  rows: Row[]
}

export function loadAverage (): number {
  return Math.round(loadavg()[0] * 100) / 100
}

export function machineInfo (loadAtStart: number): Machine {
  const list = cpus()
  return {
    cpu: list[0]?.model ?? 'unknown',
    cores: list.length,
    memoryBytes: totalmem(),
    node: process.version,
    os: `${process.platform} ${release()}`,
    loadAverage: { start: loadAtStart, end: loadAverage() }
  }
}

export function gitCommit (cwd: string): { sha: string, dirty: boolean } {
  try {
    const sha = execFileSync('git', ['rev-parse', 'HEAD'], { cwd, encoding: 'utf8' }).trim()
    // results are committed after the run, so only the measured code counts as dirt
    const status = execFileSync('git', ['status', '--porcelain', '--', 'src', 'bench/peers', 'bench/lib', 'bench/run.ts', 'package.json'], { cwd, encoding: 'utf8' })
    return { sha, dirty: status.trim() !== '' }
  } catch {
    return { sha: 'unknown', dirty: false }
  }
}

/** A figure to three significant digits or so, for the markdown tables. */
export function formatNumber (value: number): string {
  const abs = Math.abs(value)
  if (abs >= 100) return value.toFixed(0)
  if (abs >= 10) return value.toFixed(1)
  if (abs >= 1) return value.toFixed(2)
  return value.toPrecision(2)
}

function cell (row: Row, side: Side): string {
  const result = row.results[side]
  const failed = row.failures?.[side]?.length ?? 0
  const note = failed > 0 ? ` (${failed} failed)` : ''
  if (result === undefined) return failed > 0 ? `failed ×${failed}` : '—'
  let text = `**${formatNumber(result.median)}**`
  if (row.showP99 === true) text += ` (p99 ${formatNumber(result.p99)})`
  if (result.n > 1) text += ` [${formatNumber(result.min)}–${formatNumber(result.max)}]`
  return text + note
}

function ratioCell (row: Row): string {
  if (row.ratio === undefined) return '—'
  const ratio = formatNumber(row.ratio)
  const wins = row.better === 'higher' ? row.ratio > 1 : row.ratio < 1
  const factor = row.ratio >= 1 ? row.ratio : 1 / row.ratio
  return `${ratio} (${wins ? 'ours' : 'js'} ${formatNumber(factor)}× better)`
}

/** How much worse ours is with the resource manager than without, in percent of the latter. */
function costCell (row: Row): string {
  if (row.pairedCost !== undefined) return `${row.pairedCost >= 0 ? '+' : ''}${(row.pairedCost * 100).toFixed(1)} % (paired)`
  const on = row.results.ts?.median
  const off = row.results['ts-off']?.median
  if (on === undefined || off === undefined || off === 0) return '—'
  const worse = row.better === 'higher' ? (off - on) / off : (on - off) / off
  return `${worse >= 0 ? '+' : ''}${(worse * 100).toFixed(1)} %`
}

const SIZE_UNITS = [['GiB', 2 ** 30], ['MiB', 2 ** 20], ['KiB', 2 ** 10]] as const
export function formatBytes (n: number): string {
  for (const [unit, size] of SIZE_UNITS) if (n >= size && n % (size / 16) === 0) return `${n / size} ${unit}`
  return `${n} B`
}

export function renderMarkdown (result: BenchResult): string {
  const { machine, config } = result
  const lines: string[] = []
  lines.push('# ts-libp2p vs js-libp2p: side-by-side benchmark', '')
  lines.push(`- date: ${result.date}`)
  lines.push(`- machine: ${machine.cpu}, ${machine.cores} cores, ${formatBytes(machine.memoryBytes - machine.memoryBytes % 2 ** 20)} RAM, ${machine.os}`)
  lines.push(`- node: ${machine.node}`)
  lines.push(`- load average (1 min) at start / end: ${machine.loadAverage.start} / ${machine.loadAverage.end}`)
  lines.push(`- commit: ${result.commit.sha}${result.commit.dirty ? ' (with uncommitted changes)' : ''}`)
  lines.push(`- run: ${config.quick ? 'QUICK smoke run (tiny sizes, not meaningful)' : 'full'}, ${Math.round(result.durationSeconds)} s; ` +
    `${config.repeat} repetitions per repeated figure; transfers of ${formatBytes(config.transferBytes)} each way after a ${formatBytes(config.warmupBytes)} warm-up; ` +
    `${config.setupCount} fresh connections per setup figure; ${config.streamCount} stream opens; ${config.concurrentStreams} streams × ${formatBytes(config.concurrentBytes)}; ` +
    `${config.idleConnections} idle connections × ${config.memoryRepeat} fresh process pairs; application writes of ${formatBytes(config.chunkSize)}; ` +
    `our resource manager ${config.sides.includes('ts-off') ? 'on, and off in the "resource manager off" column (--resource-manager both)' : config.resourceManager ? 'on' : 'OFF (--resource-manager off: measuring its cost)'}`)
  lines.push('')
  lines.push('Each side runs as its own server and client processes on loopback; sides take turns, never run at once. ' +
    (config.fromSource === true
      ? 'The peers ran from their .ts sources (--from-source: Node\'s type stripper stays resident in every peer\'s heap). '
      : 'Every peer (ours, js-libp2p\'s, the raw reference) runs compiled to JavaScript, as an installed package does. ') +
    'Cells: **median** [min–max] over the repetitions (or over the samples, for latencies). ' +
    '"ours/js" is ts-libp2p median ÷ js-libp2p median. Reference = raw node:net TCP / node:crypto on one core.', '')
  // with --resource-manager both: our peers without it, and what it costs (ours ÷ ours without)
  const withOff = result.rows.some(row => row.results['ts-off'] !== undefined)
  lines.push(`| figure | unit | ts-libp2p (ours) |${withOff ? ' ours, resource manager off | resource manager cost |' : ''} js-libp2p | reference | ours/js |`)
  lines.push(`|---|---|---|${withOff ? '---|---|' : ''}---|---|---|`)
  for (const row of result.rows) {
    const arrow = row.better === 'higher' ? '↑' : '↓'
    const offCells = withOff ? ` ${cell(row, 'ts-off')} | ${costCell(row)} |` : ''
    lines.push(`| ${row.label} | ${row.unit} ${arrow} | ${cell(row, 'ts')} |${offCells} ${cell(row, 'js')} | ${cell(row, 'raw')} | ${ratioCell(row)} |`)
  }
  lines.push('', '↑ higher is better, ↓ lower is better.', '')
  const failures = result.rows.flatMap(row => Object.entries(row.failures ?? {}).map(([side, errors]) => `- ${row.label}, ${side}: ${errors.length} failed: ${[...new Set(errors)].join('; ')}`))
  if (failures.length > 0) lines.push('Failed repetitions (left out of the figures):', ...failures, '')
  lines.push('Notes:')
  lines.push('- Throughput: one stream on a warm connection; the client sends a 16-byte request (upload and download sizes), then uploads and half-closes, the server then sends the download; timed from opening the stream to the last byte (uploads: to the server\'s end-of-stream). Gbit/s = 10⁹ bit/s.')
  lines.push('- CPU: user + system seconds of client and server processes together (process.cpuUsage()), per GiB moved, over the single-stream transfers of that stack, both directions.')
  lines.push('- Setup: dial (TCP + Noise XX + Yamux negotiation) and the first ping (new stream, multistream-select, 32-byte echo), each on a fresh connection, closed before the next. "identify done": from the dial until the client received the server\'s identify. Reference: TCP connect and a 32-byte echo.')
  lines.push('- Stream open: new stream + full multistream-select negotiation (both libraries\' default) + 1-byte echo + close, on one open connection. Reference: a 1-byte echo round trip on an open socket.')
  lines.push('- CPU per stream open: user + system CPU of client and server over each round of the opens above (the sides take turns, round by round), per open. With --resource-manager both, its "resource manager cost" is the median of the per-round ratios ours / ours without it (paired), the figure to read for issue 13\'s "< 5 % of stream-open latency": the latency medians swing ±10 % between runs on a shared machine. An instruction count of the same cost, which does not depend on the load at all: `npm run bench:rm:instructions`.')
  lines.push('- Memory: growth of RSS and V8 heapUsed after forced GC while N more idle connections open (one connection is opened before the baseline, so one-time costs such as lazy compilation stay out), divided by N; Noise + Yamux, ping service, no identify; in the dialing (client) and the listening (server) process. Reference: idle node:net sockets.')
  lines.push('- ChaCha20-Poly1305 (node:crypto, one core): "bulk" streams the whole volume through one cipher object; "per frame" does what a Noise transport must do for every 65 519-byte frame: a new cipher object, nonce and output buffer, then final() and the tag.')
  lines.push('')
  return lines.join('\n')
}

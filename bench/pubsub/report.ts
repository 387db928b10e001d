/** The markdown rendering of the pubsub benchmark's results (bench/results/pubsub.md). */
import { formatNumber, type Row } from '../lib/report.ts'
import type { PubSubBenchResult } from './run.ts'

function cell (row: Row, side: 'ts' | 'js'): string {
  const r = row.results[side]
  if (r === undefined) return '—'
  let text = `**${formatNumber(r.median)}**`
  if (row.showP99 === true) text += ` (p99 ${formatNumber(r.p99)})`
  if (r.n > 1) text += ` [${formatNumber(r.min)}–${formatNumber(r.max)}]`
  return text
}

function ratioCell (row: Row): string {
  if (row.ratio === undefined) return '—'
  const wins = row.better === 'higher' ? row.ratio > 1 : row.ratio < 1
  const factor = row.ratio >= 1 ? row.ratio : 1 / row.ratio
  return `${formatNumber(row.ratio)} (${wins ? 'ours' : 'js'} ${formatNumber(factor)}× better)`
}

export function renderPubSubMarkdown (result: PubSubBenchResult): string {
  const { machine, config } = result
  const lines: string[] = []
  lines.push('# GossipSub: ts-libp2p vs js-libp2p (@libp2p/gossipsub), side by side', '')
  lines.push(`- date: ${result.date}`)
  lines.push(`- machine: ${machine.cpu}, ${machine.cores} cores, ${machine.os}; node ${machine.node}`)
  lines.push(`- load average (1 min) at start / end: ${machine.loadAverage.start} / ${machine.loadAverage.end}`)
  lines.push(`- commit: ${result.commit.sha}${result.commit.dirty ? ' (with uncommitted changes)' : ''}`)
  lines.push(`- run: ${config.quick ? 'QUICK smoke run (tiny sizes, not meaningful)' : 'full'}, ${Math.round(result.durationSeconds)} s`)
  lines.push(`- network: ${config.nodes} nodes, each linked to its ring successor and ${config.links} random others (seed ${config.seed}, the same topology on both sides); ${config.transport}`)
  for (const [side, n] of Object.entries(result.networks)) {
    if (n === undefined) continue
    lines.push(`  - ${side}: ${n.connections} connections, meshes ready ${Math.round(n.buildMs)} ms after the start (mesh size median ${n.meshMedian}, min ${n.meshMin})`)
  }
  lines.push(`- GossipSub defaults on both sides (D 6, heartbeat 1 s, flood publishing, StrictSign: every node verifies every message); peer scoring (GossipSub v1.1, default score parameters) on for both sides with IP colocation off (all nodes share 127.0.0.1), and a run with scoring off for both (js-libp2p always scores: its run without scoring zeroes every weight, so its scores stay 0 while its bookkeeping runs); runs: ${config.scoring.map(s => `scoring ${s}`).join(', ')}`)
  lines.push(`- throughput: ${config.messages} messages of ${config.size} B from random publishers, at most ${config.window} not yet delivered everywhere at a time, × ${config.repeat}; latency: ${config.latencyMessages} messages one at a time`, '')
  lines.push('| figure | unit | ts-libp2p (ours) | js-libp2p | ours/js |')
  lines.push('|---|---|---|---|---|')
  for (const row of result.rows) {
    lines.push(`| ${row.label} | ${row.unit} ${row.better === 'higher' ? '↑' : '↓'} | ${cell(row, 'ts')} | ${cell(row, 'js')} | ${ratioCell(row)} |`)
  }
  lines.push('', 'Cells: **median** [min–max] over repetitions (throughput) or over all samples (latency). Every node runs in one process per side, so the whole network shares one core: latency includes the time the other nodes spend on the same message, and messages per second is bounded by the CPU the network spends per message.', '')
  return lines.join('\n')
}

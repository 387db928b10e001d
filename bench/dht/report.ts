/**
 * The DHT benchmark's result document (bench/results/dht.json) and its markdown rendering
 * (dht.md): per side and network size, the build cost and, for findPeer and findProviders,
 * latency, messages and hops per lookup (median, p99, min, max) and how many succeeded.
 */
import type { Machine } from '../lib/report.ts'
import { summarize, type Summary } from '../lib/stats.ts'
import type { LookupSamples, SideRun } from './lookups.ts'

export interface KindSummary {
  attempted: number
  succeeded: number
  /** The first few failures, for the record. */
  failures: string[]
  latencyMs?: Summary
  messages?: Summary
  hops?: Summary
}

export type DhtSideResult = {
  side: 'ts' | 'js'
  size: number
  lookups: number
} & ({
  build: { ms: number, rssBytes: number, heapBytes: number, peakRssBytes: number }
  findPeer: KindSummary
  findProviders: KindSummary
} | { error: string })

export interface DhtBenchResult {
  date: string
  machine: Machine
  commit: { sha: string, dirty: boolean }
  durationSeconds: number
  config: { quick: boolean, sizes: number[], lookups: number, keys: number, sides: string[], seed: number }
  results: DhtSideResult[]
}

function kind (samples: LookupSamples, attempted: number): KindSummary {
  const out: KindSummary = { attempted, succeeded: samples.latencyMs.length, failures: samples.failures.slice(0, 5) }
  if (samples.latencyMs.length > 0) {
    out.latencyMs = summarize(samples.latencyMs)
    out.messages = summarize(samples.messages)
    out.hops = summarize(samples.hops)
  }
  return out
}

export function summarizeRun (run: SideRun): DhtSideResult {
  return {
    side: run.side,
    size: run.size,
    lookups: run.lookups,
    build: { ms: run.buildMs, rssBytes: run.buildRssBytes, heapBytes: run.buildHeapBytes, peakRssBytes: run.peakRssBytes },
    findPeer: kind(run.findPeer, run.lookups),
    findProviders: kind(run.findProviders, run.lookups)
  }
}

function n (value: number): string {
  const abs = Math.abs(value)
  if (abs >= 100) return value.toFixed(0)
  if (abs >= 10) return value.toFixed(1)
  return value.toFixed(2).replace(/\.?0+$/, '') || '0'
}

function stat (s: Summary | undefined): string {
  return s === undefined ? '—' : `**${n(s.median)}** (p99 ${n(s.p99)})`
}

function find (result: DhtBenchResult, side: string, size: number): DhtSideResult | undefined {
  return result.results.find(r => r.side === side && r.size === size)
}

const MB = 1e6

export function renderDhtMarkdown (result: DhtBenchResult): string {
  const { machine, config } = result
  const sides = config.sides
  const lines: string[] = []
  lines.push('# DHT lookups: ts-libp2p vs js-libp2p (@libp2p/kad-dht), in-process networks', '')
  lines.push(`- date: ${result.date}`)
  lines.push(`- machine: ${machine.cpu}, ${machine.cores} cores, ${Math.round(machine.memoryBytes / 2 ** 30)} GiB RAM, ${machine.os}; node ${machine.node}`)
  lines.push(`- load average (1 min) at start / end: ${machine.loadAverage.start} / ${machine.loadAverage.end}`)
  lines.push(`- commit: ${result.commit.sha}${result.commit.dirty ? ' (with uncommitted changes)' : ''}`)
  lines.push(`- run: ${config.quick ? 'QUICK smoke run (tiny sizes, not meaningful)' : 'full'}, ${Math.round(result.durationSeconds)} s; ${config.lookups} lookups of each kind per network; ${config.keys} provided keys; seed ${config.seed}`)
  lines.push('')
  for (const [key, title] of [['findPeer', 'findPeer (a random node looks up another random node)'], ['findProviders', `findProviders (a random node looks for the provider of one of ${config.keys} provided keys)`]] as const) {
    lines.push(`## ${title}`, '')
    lines.push(`| nodes | ${sides.map(s => `${s} latency ms`).join(' | ')} | ${sides.map(s => `${s} messages`).join(' | ')} | ${sides.map(s => `${s} hops`).join(' | ')} | ${sides.map(s => `${s} found`).join(' | ')} |`)
    lines.push(`|---:|${sides.map(() => '---:|').join('').repeat(4)}`)
    for (const size of config.sizes) {
      const cells = (f: (k: KindSummary) => string): string[] => sides.map(side => {
        const r = find(result, side, size)
        if (r === undefined) return '—'
        if ('error' in r) return 'did not fit'
        return f(r[key])
      })
      lines.push(`| ${size} | ${[
        ...cells(k => stat(k.latencyMs)),
        ...cells(k => stat(k.messages)),
        ...cells(k => stat(k.hops)),
        ...cells(k => `${k.succeeded}/${k.attempted}`)
      ].join(' | ')} |`)
    }
    lines.push('')
  }
  lines.push('## Building the network', '')
  lines.push('| nodes | side | build s | RSS after build MB | heap after build MB | peak RSS MB | peak RSS per node KB |')
  lines.push('|---:|---|---:|---:|---:|---:|---:|')
  for (const size of config.sizes) {
    for (const side of sides) {
      const r = find(result, side, size)
      if (r === undefined) continue
      if ('error' in r) {
        lines.push(`| ${size} | ${side} | did not fit: ${r.error.replace(/\|/g, '/').slice(0, 200)} | | | | |`)
        continue
      }
      lines.push(`| ${size} | ${side} | ${n(r.build.ms / 1000)} | ${n(r.build.rssBytes / MB)} | ${n(r.build.heapBytes / MB)} | ${n(r.build.peakRssBytes / MB)} | ${n(r.build.peakRssBytes / size / 1000)} |`)
    }
  }
  lines.push('')
  lines.push('Notes:')
  lines.push('- Each side at each size runs alone in its own process (one core in use), the sides one after the other. Cells: **median** (p99) over the lookups that succeeded.')
  lines.push('- Networks are built converged, by each side\'s own table design, instead of joining node by node: ts nodes get, per common-prefix bucket, up to k = 20 peers of that part of the keyspace (their 20 closest always in); js nodes (a trie of buckets on the absolute id prefix, split to depth 6) are offered their 20 closest and up to 20 peers of each 6-bit prefix and keep what their table accepts. Each kept peer\'s address goes into the node\'s peer store. Provider records are announced with each side\'s real provide().')
  lines.push('- Lookups run one at a time; the asking node closes its connections after each, so every lookup dials the peers it asks (memory transport; ts: /memory-trusted/1.0.0 + Yamux; js: @libp2p/memory + @libp2p/plaintext + Yamux, as js has no handshake-free encrypter). findPeer does not use the local peer store (ts useLocal: false, js useCache: false); findProviders stops at the first provider found.')
  lines.push('- Messages: requests the asking node sent during the lookup (ts: its send-query events, emitted as each request goes out; js: calls of its DHT network\'s sendRequest on the asking node, PINGs of new routing table contacts left out, because js\'s event stream lags behind its sends and a lookup stops reading it at the first answer). Hops: a peer asked without referral is hop 1, one first referred by a hop-h peer is hop h + 1; a lookup\'s hops are those of the peer whose answer completed it (0 when the asking node had the answer itself), from each side\'s progress events.')
  lines.push('- Latency includes dialing every peer asked, in one process where all nodes share one core: it measures CPU cost per lookup more than network behaviour.')
  lines.push('')
  return lines.join('\n')
}

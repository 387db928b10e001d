/**
 * `npm run bench:metrics`: what metrics cost. Two pairs of ts-libp2p nodes in this process,
 * TCP + Noise + Yamux on loopback, one pair with `metrics: true` (scraped every second while it
 * runs, as Prometheus would) and one without, taking turns so load changes land on both:
 * - throughput: one stream sends `--bytes` to a sink that answers once it read everything, MiB/s;
 * - stream open: `--streams` streams opened one after another on one connection (multistream-
 *   select round trip included), then closed, microseconds each (median per repetition).
 * The cost is (off - on) / off for throughput and (on - off) / off for stream opening, from the
 * medians; the bar is below 2 %.
 *
 *   node bench/metrics/run.ts            # 256 MiB and 2000 streams, 5 repetitions per side
 *   node bench/metrics/run.ts --quick    # 16 MiB and 200 streams, 2 repetitions
 *
 * Flags: --bytes N, --streams N, --repeat N, --out DIR (bench/results). Results:
 * <out>/metrics.json and metrics.md.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { summarize, type Summary } from '../lib/stats.ts'
import { gitCommit, loadAverage, machineInfo } from '../lib/report.ts'
import { createLibp2p } from '../../src/index.ts'
import type { Libp2p } from '../../src/index.ts'
import type { Connection } from '../../src/interface/connection.ts'
import { tcp } from '../../src/transport/tcp/index.ts'
import { noise } from '../../src/security/noise/index.ts'
import { yamux } from '../../src/muxer/yamux/index.ts'
import { parseBenchFlags } from '../lib/flags.ts'
import { handleSinkAndOpen, sendToSink } from '../lib/sink-open.ts'

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))
const SINK = '/bench/metrics-sink/1.0.0'
const OPEN = '/bench/metrics-open/1.0.0'
const CHUNK = 64 * 1024
type Side = 'on' | 'off'

interface Config { bytes: number, streams: number, repeat: number, out: string, quick: boolean }

function parseArgs (argv: string[]): Config {
  const flags = parseBenchFlags(argv, ['bytes', 'streams', 'repeat', 'out'])
  const { quick, int } = flags
  return { bytes: int('bytes', 256 * 1024 * 1024, 16 * 1024 * 1024), streams: int('streams', 2000, 200), repeat: int('repeat', 5, 2), out: flags.get('out') ?? join(REPO_ROOT, 'bench', 'results'), quick }
}

async function makeNode (metrics: boolean): Promise<Libp2p> {
  const node = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: {},
    metrics
  })
  await handleSinkAndOpen(node, SINK, OPEN)
  return node
}

async function throughput (connection: Connection, bytes: number): Promise<number> {
  const stream = await connection.newStream(SINK)
  const chunk = new Uint8Array(CHUNK).fill(7)
  const started = performance.now()
  await sendToSink(stream, bytes, chunk)
  const seconds = (performance.now() - started) / 1000
  await stream.close()
  return bytes / (1024 * 1024) / seconds
}

/** Median microseconds of opening (and negotiating) one stream. */
async function streamOpen (connection: Connection, streams: number): Promise<number> {
  const samples: number[] = []
  for (let i = 0; i < streams; i++) {
    const started = performance.now()
    const stream = await connection.newStream(OPEN, { maxOutboundStreams: 10_000 })
    samples.push((performance.now() - started) * 1000)
    await stream.close()
  }
  return summarize(samples).median
}

interface Pair { client: Libp2p, server: Libp2p, connection: Connection, scrapes: number, stopScraping: () => void }

async function makePair (side: Side): Promise<Pair> {
  const server = await makeNode(side === 'on')
  const client = await makeNode(side === 'on')
  const connection = await client.dial(server.getMultiaddrs()[0])
  const pair: Pair = { client, server, connection, scrapes: 0, stopScraping: () => {} }
  if (side === 'on') {
    // as Prometheus would, every second, on both nodes: collection is part of the cost
    const timer = setInterval(() => {
      client.metrics!.expose()
      server.metrics!.expose()
      pair.scrapes++
    }, 1000)
    pair.stopScraping = () => { clearInterval(timer) }
  }
  return pair
}

async function main (): Promise<void> {
  const config = parseArgs(process.argv.slice(2))
  const loadAtStart = loadAverage()
  // Two pairs per side, made in the order on, off, off, on: in one process the pair made first
  // measured slower at opening streams whichever side it was (metrics on first: +4 to +7 %;
  // off first: -14 %), so each side gets one early and one late pair and the repetitions
  // alternate between them.
  const made: Pair[] = []
  for (const side of ['on', 'off', 'off', 'on'] as const) made.push(await makePair(side))
  const pairsOf: Record<Side, Pair[]> = { on: [made[0], made[3]], off: [made[1], made[2]] }
  const results: Record<Side, { throughput: number[], streamOpen: number[] }> = { on: { throughput: [], streamOpen: [] }, off: { throughput: [], streamOpen: [] } }
  try {
    // warm-up: both sides' code paths compiled before anything counts
    for (const pair of made) {
      await throughput(pair.connection, Math.min(config.bytes, 4 * 1024 * 1024))
      await streamOpen(pair.connection, Math.min(config.streams, 100))
    }
    for (let r = 0; r < config.repeat; r++) {
      // the order flips each repetition, so neither side always runs first
      const order: Side[] = r % 2 === 0 ? ['off', 'on'] : ['on', 'off']
      for (const side of order) {
        const pair = pairsOf[side][r % 2]
        results[side].throughput.push(await throughput(pair.connection, config.bytes))
        results[side].streamOpen.push(await streamOpen(pair.connection, config.streams))
      }
    }
  } finally {
    for (const pair of made) {
      pair.stopScraping()
      await pair.client.stop()
      await pair.server.stop()
    }
  }
  const summary = (side: Side): { throughputMiBs: Summary, streamOpenMicros: Summary } => ({ throughputMiBs: summarize(results[side].throughput), streamOpenMicros: summarize(results[side].streamOpen) })
  const on = summary('on')
  const off = summary('off')
  const throughputCost = (off.throughputMiBs.median - on.throughputMiBs.median) / off.throughputMiBs.median
  const streamOpenCost = (on.streamOpenMicros.median - off.streamOpenMicros.median) / off.streamOpenMicros.median
  const result = {
    bench: 'metrics',
    config: { bytes: config.bytes, streams: config.streams, repeat: config.repeat, quick: config.quick },
    git: gitCommit(REPO_ROOT),
    machine: machineInfo(loadAtStart),
    scrapes: pairsOf.on[0].scrapes + pairsOf.on[1].scrapes,
    on,
    off,
    cost: { throughput: throughputCost, streamOpen: streamOpenCost },
    samples: results
  }
  const pct = (x: number): string => `${(x * 100).toFixed(2)} %`
  const md = [
    '# Metrics on vs off (TCP + Noise + Yamux, loopback, one process)',
    '',
    `${config.repeat} repetitions per side, taking turns; ${config.bytes} bytes per throughput run, ${config.streams} streams per stream-open run; load average at start ${loadAtStart.toFixed(2)}; ${pairsOf.on[0].scrapes + pairsOf.on[1].scrapes} scrapes of the metrics side (two pairs per side, made on, off, off, on).`,
    '',
    '| figure | metrics off | metrics on | cost |',
    '|---|---|---|---|',
    `| throughput, MiB/s (median) | ${off.throughputMiBs.median.toFixed(1)} | ${on.throughputMiBs.median.toFixed(1)} | ${pct(throughputCost)} |`,
    `| stream open, us (median of medians) | ${off.streamOpenMicros.median.toFixed(1)} | ${on.streamOpenMicros.median.toFixed(1)} | ${pct(streamOpenCost)} |`,
    ''
  ].join('\n')
  await mkdir(config.out, { recursive: true })
  await writeFile(join(config.out, 'metrics.json'), JSON.stringify(result, null, 2) + '\n')
  await writeFile(join(config.out, 'metrics.md'), md)
  process.stdout.write(md)
}

await main()

/**
 * `npm run bench:pubsub`: GossipSub through a 100-node in-process network, ts-libp2p vs
 * js-libp2p (@libp2p/gossipsub) on the same seeded topology. Each side runs its whole network
 * in one process of its own (bench/pubsub/ts-net.ts, js-net.ts), over the same transport: TCP
 * on loopback with Noise and Yamux (js-libp2p has no in-tree memory transport here, so TCP is
 * the one transport class both run). The sides take turns, never run at once. Results go to
 * <out>/pubsub.json and pubsub.md.
 *
 *   node bench/pubsub/run.ts                  # full run (100 nodes, a few minutes)
 *   node bench/pubsub/run.ts --quick          # smoke run (12 nodes, a handful of messages)
 *
 * Peer scoring: `--scoring on` runs both sides with GossipSub v1.1 peer scoring (default score
 * parameters, IP colocation off on both: every node shares 127.0.0.1), `--scoring off` both
 * without it (js-libp2p cannot turn scoring off: its run zeroes every weight, so scores stay 0
 * while its bookkeeping still runs), `--scoring both` (the default) one after the other. The
 * rows of the run with scoring are `pubsub/...`, those without `pubsub/no-scoring/...`.
 *
 * Flags: --nodes N (100), --links N random links per node besides the ring (4), --messages N
 * for throughput (300), --window N messages in flight (20), --latency-messages N (30),
 * --size BYTES payload (256), --repeat N throughput repetitions (3), --sides ts,js,
 * --scoring on|off|both (both), --seed N, --out DIR (bench/results), --debug (peers' stderr to ours).
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { spawnPeer, type PeerProcess } from '../lib/child.ts'
import { summarize } from '../lib/stats.ts'
import { gitCommit, loadAverage, machineInfo, type Machine, type Row, type SideResult } from '../lib/report.ts'
import { renderPubSubMarkdown } from './report.ts'

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))
type PubSubSide = 'ts' | 'js'

export interface PubSubBenchConfig {
  quick: boolean
  nodes: number
  links: number
  messages: number
  window: number
  latencyMessages: number
  size: number
  repeat: number
  seed: number
  sides: PubSubSide[]
  /** The runs, with and/or without peer scoring. */
  scoring: Array<'on' | 'off'>
  transport: string
}

export interface PubSubBenchResult {
  date: string
  machine: Machine
  commit: { sha: string, dirty: boolean }
  durationSeconds: number
  config: PubSubBenchConfig
  /** Per side ('ts', 'js'; 'ts/no-scoring', 'js/no-scoring' for the run without scoring): the network that was built. */
  networks: Partial<Record<string, { connections: number, buildMs: number, meshMedian: number, meshMin: number }>>
  rows: Row[]
}

function parseArgs (argv: string[], env: NodeJS.ProcessEnv): PubSubBenchConfig & { out: string, debug: boolean } {
  const flags = new Map<string, string>()
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i]
    if (!name.startsWith('--')) throw new Error(`unexpected argument ${JSON.stringify(name)}`)
    if (name === '--quick' || name === '--debug') flags.set(name.slice(2), '1')
    else {
      const value = argv[++i]
      if (value === undefined) throw new Error(`${name} needs a value`)
      flags.set(name.slice(2), value)
    }
  }
  const known = ['quick', 'debug', 'nodes', 'links', 'messages', 'window', 'latency-messages', 'size', 'repeat', 'sides', 'scoring', 'seed', 'out']
  for (const k of flags.keys()) if (!known.includes(k)) throw new Error(`unknown flag --${k}`)
  const quick = flags.has('quick') || env.BENCH_QUICK === '1'
  const int = (name: string, full: number, small: number): number => {
    const text = flags.get(name)
    const value = text === undefined ? (quick ? small : full) : Number(text)
    if (!Number.isSafeInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer`)
    return value
  }
  const sides = (flags.get('sides') ?? 'ts,js').split(',') as PubSubSide[]
  for (const s of sides) if (s !== 'ts' && s !== 'js') throw new Error(`unknown side ${JSON.stringify(s)}`)
  const scoring = flags.get('scoring') ?? 'both'
  if (scoring !== 'on' && scoring !== 'off' && scoring !== 'both') throw new Error('--scoring takes on, off or both')
  return {
    quick,
    nodes: int('nodes', 100, 12),
    links: int('links', 4, 2),
    messages: int('messages', 300, 20),
    window: int('window', 20, 5),
    latencyMessages: int('latency-messages', 30, 5),
    size: int('size', 256, 256),
    repeat: int('repeat', 3, 1),
    seed: int('seed', 0x9055, 0x9055),
    sides,
    scoring: scoring === 'both' ? ['on', 'off'] : [scoring],
    transport: 'TCP on loopback + Noise + Yamux, identify; all nodes of a side in one process',
    out: flags.get('out') ?? join(REPO_ROOT, 'bench', 'results'),
    debug: flags.has('debug') || env.BENCH_DEBUG === '1'
  }
}

const options = parseArgs(process.argv.slice(2), process.env)
const { out, debug, ...config } = options
const startedAt = Date.now()
const loadAtStart = loadAverage()
const live = new Set<PeerProcess>()

function progress (text: string): void {
  process.stderr.write(`[bench:pubsub ${((Date.now() - startedAt) / 1000).toFixed(1).padStart(6)} s] ${text}\n`)
}

function sideResult (samples: number[]): SideResult {
  return { ...summarize(samples), samples }
}

async function main (): Promise<void> {
  const samples = new Map<string, Partial<Record<PubSubSide, number[]>>>()
  const add = (id: string, side: PubSubSide, values: number[]): void => {
    const bySide = samples.get(id) ?? {}
    samples.set(id, bySide)
    ;(bySide[side] ??= []).push(...values)
  }
  const networks: PubSubBenchResult['networks'] = {}
  for (const scoring of config.scoring) {
    // ids and network names of the run without scoring carry its name
    const prefix = scoring === 'on' ? 'pubsub/' : 'pubsub/no-scoring/'
    const suffix = scoring === 'on' ? '' : '/no-scoring'
    for (const side of config.sides) {
      progress(`${side}: building ${config.nodes} nodes, peer scoring ${scoring}`)
      const peer = await spawnPeer({ script: join(REPO_ROOT, 'bench', 'pubsub', `${side}-net.ts`), args: ['--scoring', scoring], name: `${side} pubsub network`, inheritStderr: debug })
      live.add(peer)
      try {
        const built = await peer.command('build', { nodes: config.nodes, links: config.links, seed: config.seed }, 300_000)
        networks[`${side}${suffix}`] = { connections: built.connections, buildMs: built.ms, meshMedian: built.meshMedian, meshMin: built.meshMin }
        progress(`${side}: ${built.connections} connections, meshes ready in ${Math.round(built.ms)} ms (mesh median ${built.meshMedian}, min ${built.meshMin})`)
        for (let rep = 0; rep < config.repeat; rep++) {
          const r = await peer.command('throughput', { messages: config.messages, size: config.size, window: config.window, seed: config.seed + rep }, 600_000)
          if (r.duplicates !== 0) throw new Error(`${side}: ${r.duplicates} duplicate deliveries`)
          add(`${prefix}throughput`, side, [r.messagesPerSecond])
          add(`${prefix}deliveries`, side, [r.deliveries / r.ms * 1000])
          add(`${prefix}cpu`, side, [r.cpuMsPerMessage])
          add(`${prefix}lost`, side, [r.lost / config.messages * 100])
          progress(`${side}: ${r.messagesPerSecond.toFixed(1)} messages/s, ${r.cpuMsPerMessage.toFixed(1)} ms CPU per message${r.lost > 0 ? `, ${r.lost} of ${config.messages} messages never reached every node (${r.publishErrors} refused by publish)` : ''}`)
        }
        const lat = await peer.command('latency', { messages: config.latencyMessages, size: config.size }, 600_000)
        if (lat.duplicates !== 0) throw new Error(`${side}: ${lat.duplicates} duplicate deliveries`)
        add(`${prefix}latency/delivery`, side, lat.deliveryMs)
        add(`${prefix}latency/all`, side, lat.allMs)
        progress(`${side}: latency median ${summarize(lat.deliveryMs).median.toFixed(1)} ms per delivery, ${summarize(lat.allMs).median.toFixed(1)} ms to reach all${lat.lost > 0 ? ` (${lat.lost} of ${config.latencyMessages} never did)` : ''}`)
      } finally {
        await peer.stop()
        live.delete(peer)
      }
    }
  }
  const n = config.nodes
  const labels: Record<string, Omit<Row, 'id' | 'results' | 'section'>> = {
    'pubsub/throughput': { label: `messages per second through ${n} nodes, each to all ${n - 1} subscribers (${config.size} B, ${config.window} in flight)`, unit: 'msg/s', better: 'higher' },
    'pubsub/deliveries': { label: 'deliveries per second (messages × subscribers reached)', unit: 'deliveries/s', better: 'higher' },
    'pubsub/lost': { label: 'messages that had not reached every subscriber 30 s after publishing (counted lost; throughput counts the others)', unit: '%', better: 'lower' },
    'pubsub/cpu': { label: `CPU per message published, whole ${n}-node network`, unit: 'ms', better: 'lower' },
    'pubsub/latency/delivery': { label: 'publish-to-delivery latency, per delivery, idle network', unit: 'ms', better: 'lower', showP99: true },
    'pubsub/latency/all': { label: `publish until all ${n - 1} subscribers have it, idle network`, unit: 'ms', better: 'lower', showP99: true }
  }
  const rows: Row[] = []
  for (const scoring of config.scoring) {
    for (const [name, meta] of Object.entries(labels)) {
      const id = scoring === 'on' ? name : name.replace('pubsub/', 'pubsub/no-scoring/')
      const bySide = samples.get(id)
      if (bySide === undefined) continue
      const results: Row['results'] = {}
      for (const side of config.sides) if (bySide[side] !== undefined) results[side] = sideResult(bySide[side])
      const ratio = results.ts !== undefined && results.js !== undefined && name !== 'pubsub/lost' ? results.ts.median / results.js.median : undefined
      const label = `${meta.label}, peer scoring ${scoring === 'on' ? 'on (IP colocation off)' : 'off'}`
      rows.push({ id, section: 'pubsub', ...meta, label, results, ...(ratio !== undefined ? { ratio } : {}) })
    }
  }
  const result: PubSubBenchResult = {
    date: new Date().toISOString(),
    machine: machineInfo(loadAtStart),
    commit: gitCommit(REPO_ROOT),
    durationSeconds: (Date.now() - startedAt) / 1000,
    config,
    networks,
    rows
  }
  await mkdir(out, { recursive: true })
  const markdown = renderPubSubMarkdown(result)
  await writeFile(join(out, 'pubsub.json'), JSON.stringify(result, null, 2) + '\n')
  await writeFile(join(out, 'pubsub.md'), markdown)
  process.stdout.write(markdown)
  progress(`done; results in ${join(out, 'pubsub.json')} and pubsub.md`)
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:pubsub failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
  process.exitCode = 1
}).finally(async () => {
  await Promise.all([...live].map(async (peer) => { await peer.stop() }))
})

/**
 * `npm run bench:relay`: a ts-libp2p relay (circuitRelayServer) beside a js-libp2p relay
 * (@libp2p/circuit-relay-v2), each in a process of its own (bench/relay/relay-peer.ts), served
 * the same way by ts-libp2p clients in this process, over TCP + Noise + Yamux on loopback, with
 * circuit limits off. The sides take turns. Figures:
 * Two warm-up clients with a circuit between them run first (and carry the throughput runs),
 * so the memory baseline is taken with the relay's code paths already in use.
 * - relayed throughput: one client sends `--bytes` to another through the relay (a sink
 *   protocol that answers once it read everything), MiB/s, `--repeat` times;
 * - relay memory per reservation: the relay's heap (and RSS) after a full GC, before and after
 *   `--clients` clients reserved, divided by their number (each reservation brings its TCP +
 *   Noise + Yamux connection: that is what a reservation costs a relay);
 * - relay memory per circuit: then each client opens a relayed connection to the next one
 *   (no new connection to the relay: the circuits alone), divided by their number.
 *
 *   node bench/relay/run.ts            # 50 clients, 64 MiB x 3
 *   node bench/relay/run.ts --quick    # 5 clients, 4 MiB x 1
 *
 * Flags: --clients N, --bytes N, --repeat N, --sides ts,js, --out DIR (bench/results).
 * Results: <out>/relay.json and relay.md.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { multiaddr } from '@multiformats/multiaddr'
import { spawnPeer } from '../lib/child.ts'
import { summarize, type Summary } from '../lib/stats.ts'
import { gitCommit, loadAverage, machineInfo } from '../lib/report.ts'
import { createLibp2p } from '../../src/index.ts'
import type { Libp2p } from '../../src/index.ts'
import type { Stream } from '../../src/interface/stream.ts'
import { tcp } from '../../src/transport/tcp/index.ts'
import { noise } from '../../src/security/noise/index.ts'
import { yamux } from '../../src/muxer/yamux/index.ts'
import { circuitRelayTransport } from '../../src/relay/index.ts'
import { isRelayed } from '../../src/util/multiaddr.ts'
import { parseBenchFlags } from '../lib/flags.ts'
import { sendToSink } from '../lib/sink-open.ts'

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))
const SINK = '/bench/relay-sink/1.0.0'
const CHUNK = 64 * 1024
type Side = 'ts' | 'js'

function parseArgs (argv: string[]): { clients: number, bytes: number, repeat: number, sides: Side[], out: string, quick: boolean } {
  const flags = parseBenchFlags(argv, ['clients', 'bytes', 'repeat', 'sides', 'out'])
  const { quick, int } = flags
  const sides = (flags.get('sides') ?? 'ts,js').split(',') as Side[]
  for (const s of sides) if (s !== 'ts' && s !== 'js') throw new Error(`unknown side ${s}`)
  return { clients: int('clients', 50, 5), bytes: int('bytes', 64 * 1024 * 1024, 4 * 1024 * 1024), repeat: int('repeat', 3, 1), sides, out: flags.get('out') ?? join(REPO_ROOT, 'bench', 'results'), quick }
}

async function client (listen: string[]): Promise<Libp2p> {
  const node = await createLibp2p({
    addresses: { listen },
    transports: [tcp(), circuitRelayTransport()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: {}
  })
  await node.handle(SINK, async (stream: Stream) => {
    for await (const chunk of stream) void chunk
    await stream.write(Uint8Array.of(1))
    await stream.close()
  }, { runOnLimitedConnection: true })
  return node
}

async function throughput (from: Libp2p, to: Libp2p, bytes: number): Promise<number> {
  const target = to.getMultiaddrs().find(isRelayed)!
  const connection = await from.dial(target)
  const stream = await connection.newStream(SINK, { runOnLimitedConnection: true })
  const chunk = new Uint8Array(CHUNK).fill(7)
  const started = performance.now()
  await sendToSink(stream, bytes, chunk)
  const seconds = (performance.now() - started) / 1000
  await stream.close()
  return bytes / (1024 * 1024) / seconds
}

interface SideFigures { throughput: Summary & { samples: number[] }, heapPerReservation: number, rssPerReservation: number, heapPerCircuit: number, rssPerCircuit: number }

async function runSide (side: Side, config: ReturnType<typeof parseArgs>): Promise<SideFigures> {
  const relay = await spawnPeer({ script: join(REPO_ROOT, 'bench', 'relay', 'relay-peer.ts'), args: ['--side', side], name: `${side}-relay` })
  const clients: Libp2p[] = []
  try {
    const relayAddr = String(relay.ready.addr)
    const memory = async (): Promise<{ heapUsed: number, rss: number }> => await relay.command('memory') as unknown as { heapUsed: number, rss: number }
    // Warm the relay's code paths (and its first allocations) before the baseline.
    const warm = [await client([`${relayAddr}/p2p-circuit`]), await client([`${relayAddr}/p2p-circuit`])]
    clients.push(...warm)
    await warm[0].dial(multiaddr(warm[1].getMultiaddrs().find(isRelayed)!.toString()))
    const measured = clients.length
    const before = await memory()
    for (let i = 0; i < config.clients; i++) clients.push(await client([`${relayAddr}/p2p-circuit`]))
    const measuredClients = clients.slice(measured)
    for (const c of measuredClients) if (!c.getMultiaddrs().some(isRelayed)) throw new Error(`${side} relay: a client has no reservation`)
    const reserved = await memory()
    for (let i = 0; i < measuredClients.length; i++) {
      const next = measuredClients[(i + 1) % measuredClients.length]
      await measuredClients[i].dial(multiaddr(next.getMultiaddrs().find(isRelayed)!.toString()))
    }
    const circuits = await memory()
    const samples: number[] = []
    for (let r = 0; r < config.repeat; r++) samples.push(await throughput(warm[0], warm[1], config.bytes))
    return {
      throughput: { ...summarize(samples), samples },
      heapPerReservation: (reserved.heapUsed - before.heapUsed) / config.clients,
      rssPerReservation: (reserved.rss - before.rss) / config.clients,
      heapPerCircuit: (circuits.heapUsed - reserved.heapUsed) / config.clients,
      rssPerCircuit: (circuits.rss - reserved.rss) / config.clients
    }
  } finally {
    await Promise.all(clients.map(async c => { await c.stop() }))
    await relay.stop()
  }
}

const config = parseArgs(process.argv.slice(2))
const load = loadAverage()
const started = Date.now()
const results: Partial<Record<Side, SideFigures>> = {}
for (const side of config.sides) {
  process.stderr.write(`relay bench: ${side} relay, ${config.clients} clients, ${config.bytes} bytes x ${config.repeat}\n`)
  results[side] = await runSide(side, config)
}
const kib = (n: number | undefined): string => n === undefined ? '-' : `${(n / 1024).toFixed(1)} KiB`
const lines = [
  `# Relay: ts-libp2p vs js-libp2p circuit relay v2 (${new Date().toISOString()})`,
  '',
  `${config.clients} ts-libp2p clients, TCP + Noise + Yamux on loopback, circuit limits off; load ${load.toFixed(1)} at start.`,
  '',
  '| figure | ts relay | js relay |',
  '|---|---|---|',
  `| relayed throughput (${(config.bytes / 1048576).toFixed(0)} MiB, median of ${config.repeat}) | ${results.ts?.throughput.median.toFixed(1) ?? '-'} MiB/s | ${results.js?.throughput.median.toFixed(1) ?? '-'} MiB/s |`,
  `| relay heap per reservation (incl. its connection) | ${kib(results.ts?.heapPerReservation)} | ${kib(results.js?.heapPerReservation)} |`,
  `| relay RSS per reservation | ${kib(results.ts?.rssPerReservation)} | ${kib(results.js?.rssPerReservation)} |`,
  `| relay heap per circuit | ${kib(results.ts?.heapPerCircuit)} | ${kib(results.js?.heapPerCircuit)} |`,
  `| relay RSS per circuit | ${kib(results.ts?.rssPerCircuit)} | ${kib(results.js?.rssPerCircuit)} |`
]
await mkdir(config.out, { recursive: true })
await writeFile(join(config.out, 'relay.json'), JSON.stringify({ date: new Date().toISOString(), machine: machineInfo(load), commit: gitCommit(REPO_ROOT), durationSeconds: (Date.now() - started) / 1000, config, results }, null, 2) + '\n')
await writeFile(join(config.out, 'relay.md'), lines.join('\n') + '\n')
process.stdout.write(lines.join('\n') + '\n')
process.exit(0)

/**
 * `npm run bench:daemon`: our daemon (`ts-libp2p daemon`) beside go-libp2p-daemon's p2pd
 * v0.9.2 (interop/p2pd/build.ts), each as two processes on loopback (TCP + Noise + Yamux),
 * driven by the same client (ts-libp2p/daemon-client) in this process. The sides take turns.
 * - stream throughput: client -> daemon A -> daemon B -> client handler, `--bytes` one way, the
 *   handler answers one byte after reading everything; MiB/s, `--repeat` times;
 * - stream latency: 1-byte ping-pong through the same path (both daemons' /echo/1.0.0), µs;
 * - control round trip: IDENTIFY on a fresh control connection, µs;
 * - daemon RSS: idle (after one connection to its pair), then with `--conns` more connections
 *   from in-process ts-libp2p nodes, and the growth per held connection.
 * Our daemon runs as installed (compiled, interop/daemon/installed.ts) unless `--build src`.
 * Then the local-transport measurement for ours (docs/daemon/local-transport.md): the same
 * throughput between two in-process nodes on the libp2p stream API directly, no daemon, no
 * local socket, to show what the two unix/TCP socket hops cost.
 *
 *   node bench/daemon/run.ts            # 64 MiB x 3, 200 pings, 200 round trips, 100 connections
 *   node bench/daemon/run.ts --quick    # 4 MiB x 1, 20, 20, 10
 *   node bench/daemon/run.ts --quick --sides ts --nodeFlags '--cpu-prof --cpu-prof-dir=/tmp/prof'
 *
 * Results: <out>/daemon.json and daemon.md (--out DIR, default bench/results).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { summarize, type Summary } from '../lib/stats.ts'
import { loadAverage } from '../lib/report.ts'
import { buildP2pd } from '../../interop/p2pd/build.ts'
import { daemonLauncher } from '../../interop/daemon/installed.ts'
import { DaemonClient } from '../../src/daemon/client.ts'
import { createLibp2p, type Libp2p } from '../../src/index.ts'
import { tcp } from '../../src/transport/tcp/index.ts'
import { noise } from '../../src/security/noise/index.ts'
import { yamux } from '../../src/muxer/yamux/index.ts'
import { MemoryDatastore } from '../../src/store/memory.ts'
import type { ByteStream } from '../../src/interface/stream.ts'

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))
const SINK = '/bench/daemon-sink/1.0.0'
const CHUNK = 64 * 1024
const START_TIMEOUT_MS = 60_000
const DIAL_PACE_MS = 250

interface Options { bytes: number, repeat: number, pings: number, rounds: number, conns: number, out: string, sides: string, nodeFlags: string, build: string }

function parseArgs (argv: string[]): Options {
  const quick = argv.includes('--quick')
  const o: Options = quick ? { bytes: 4 << 20, repeat: 1, pings: 20, rounds: 20, conns: 10, out: join(REPO_ROOT, 'bench/results'), sides: 'ts,p2pd', nodeFlags: '', build: 'dist' } : { bytes: 64 << 20, repeat: 3, pings: 200, rounds: 200, conns: 100, out: join(REPO_ROOT, 'bench/results'), sides: 'ts,p2pd', nodeFlags: '', build: 'dist' }
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i]
    if (name === '--quick') continue
    const value = argv[++i]
    if (!name.startsWith('--') || value === undefined) throw new Error(`bad argument ${name}`)
    const key = name.slice(2) as keyof Options
    if (!(key in o)) throw new Error(`unknown flag ${name}`)
    ;(o as unknown as Record<string, string | number>)[key] = ['out', 'sides', 'nodeFlags', 'build'].includes(key) ? value : Number(value)
  }
  return o
}

interface Daemon { child: ChildProcess, control: string, client: DaemonClient }

async function startDaemon (command: string, args: string[]): Promise<Daemon> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DEBUG: '' } })
  const control = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`${command} did not start`)) }, START_TIMEOUT_MS)
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.startsWith('Control socket: ')) { clearTimeout(timer); resolve(line.slice('Control socket: '.length)) }
    })
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`${command} exited (${code})`)) })
  })
  return { child, control, client: new DaemonClient(control) }
}

async function stopDaemon (d: Daemon): Promise<void> {
  await d.client.close()
  if (d.child.exitCode !== null) return
  const exited = new Promise(resolve => d.child.once('exit', resolve))
  d.child.kill('SIGTERM')
  await exited
}

async function rssKiB (pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN)
}

/** The floor under any Node daemon's RSS: an empty Node process that only waits. */
async function emptyNodeRssKiB (): Promise<number> {
  const child = spawn(process.execPath, ['-e', 'process.stdout.write("ready\\n"); setInterval(() => {}, 60_000)'], { stdio: ['ignore', 'pipe', 'inherit'] })
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout!.once('data', () => { resolve() })
      child.once('exit', (code) => { reject(new Error(`empty node exited (${code})`)) })
    })
    return await rssKiB(child.pid!)
  } finally {
    child.kill('SIGKILL')
  }
}

/** Writes `bytes` and waits for the one-byte answer the sink sends after reading them all. */
async function sendAll (stream: ByteStream, bytes: number): Promise<void> {
  const chunk = new Uint8Array(CHUNK)
  for (let sent = 0; sent < bytes; sent += CHUNK) if (!stream.send(chunk)) await stream.drain()
  await stream.closeWrite()
  for await (const _ of stream) break
  stream.abort(new Error('done'))
}

async function sink (stream: ByteStream, expected: number): Promise<void> {
  let got = 0
  for await (const c of stream) { got += c.byteLength; if (got >= expected) break }
  await stream.write(Uint8Array.of(1))
  await stream.close()
}

async function pingPong (stream: ByteStream, count: number): Promise<number[]> {
  const samples: number[] = []
  const iterator = stream[Symbol.asyncIterator]()
  for (let i = 0; i < count; i++) {
    const start = process.hrtime.bigint()
    await stream.write(Uint8Array.of(i & 0xff))
    const { done } = await iterator.next()
    if (done === true) throw new Error('echo closed')
    samples.push(Number(process.hrtime.bigint() - start) / 1000)
  }
  stream.abort(new Error('done'))
  return samples
}

async function plainNode (): Promise<Libp2p> {
  return await createLibp2p({ datastore: new MemoryDatastore(), addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] }, transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()] })
}

interface SideResult { throughputMiBs: Summary, latencyUs: Summary, controlRoundTripUs: Summary, rssIdleKiB: number, rssWithConnsKiB: number, conns: number }

async function runSide (command: string, prefix: string[], o: Options, dir: string): Promise<SideResult> {
  const args = (name: string): string[] => [...prefix, '-listen', '/ip4/127.0.0.1/tcp/0', '-hostAddrs', '/ip4/127.0.0.1/tcp/0', '-noise=true', '-tls=false', '-plaintext=false', '-relay=false', ...(prefix.length > 0 ? ['-dataDir', join(dir, name)] : [])]
  const a = await startDaemon(command, args('a'))
  const b = await startDaemon(command, args('b'))
  try {
    const idB = await b.client.identify()
    await a.client.connect(idB.id, idB.addrs)
    const sinks: Array<Promise<void>> = []
    await b.client.registerStreamHandler([SINK], (stream) => { sinks.push(sink(stream, o.bytes).catch(() => {})) })
    const throughput: number[] = []
    for (let i = 0; i < o.repeat; i++) {
      const { stream } = await a.client.openStream(idB.id, [SINK])
      const start = process.hrtime.bigint()
      await sendAll(stream, o.bytes)
      throughput.push(o.bytes / (1 << 20) / (Number(process.hrtime.bigint() - start) / 1e9))
    }
    const { stream: echo } = await a.client.openStream(idB.id, ['/echo/1.0.0'])
    const latency = await pingPong(echo, o.pings)
    const rounds: number[] = []
    for (let i = 0; i < o.rounds; i++) {
      const start = process.hrtime.bigint()
      await a.client.identify()
      rounds.push(Number(process.hrtime.bigint() - start) / 1000)
    }
    const rssIdleKiB = await rssKiB(b.child.pid!)
    const nodes = await Promise.all(Array.from({ length: o.conns }, async () => await plainNode()))
    try {
      // paced: both daemons limit how fast (ours: 5/s) and how many (go's resource manager:
      // per IP) connections one address may open; what was refused is counted, not retried
      let held = 0
      for (const n of nodes) {
        try {
          await n.dial(idB.addrs[0].encapsulate(`/p2p/${idB.id.toString()}`))
          held++
        } catch {}
        await new Promise(resolve => setTimeout(resolve, DIAL_PACE_MS))
      }
      const rssWithConnsKiB = await rssKiB(b.child.pid!)
      return { throughputMiBs: summarize(throughput), latencyUs: summarize(latency), controlRoundTripUs: summarize(rounds), rssIdleKiB, rssWithConnsKiB, conns: held }
    } finally {
      await Promise.all(nodes.map(async n => { await n.stop() }))
    }
  } finally {
    await stopDaemon(a)
    await stopDaemon(b)
  }
}

/** The same throughput on the libp2p stream API between two in-process nodes: no daemon. */
async function inProcessThroughput (o: Options): Promise<Summary> {
  const [a, b] = await Promise.all([plainNode(), plainNode()])
  try {
    await b.handle(SINK, (stream) => { sink(stream, o.bytes).catch(() => {}) })
    const samples: number[] = []
    for (let i = 0; i < o.repeat; i++) {
      const stream = await a.dialProtocol(b.getMultiaddrs()[0], SINK)
      const start = process.hrtime.bigint()
      await sendAll(stream, o.bytes)
      samples.push(o.bytes / (1 << 20) / (Number(process.hrtime.bigint() - start) / 1e9))
    }
    return summarize(samples)
  } finally {
    await a.stop()
    await b.stop()
  }
}

const o = parseArgs(process.argv.slice(2))
const sides = new Set(o.sides.split(','))
const loadAtStart = loadAverage()
const dir = await mkdtemp(join(tmpdir(), 'bench-daemon-'))
try {
  // --sides ts or --sides p2pd runs one of them (for profiling one side; the comparison needs
  // both); --nodeFlags '--cpu-prof ...' are node's flags for our daemons; --build src runs the
  // checkout's .ts sources instead of the installed package (interop/daemon/installed.ts)
  const ts = sides.has('ts') ? await runSide(process.execPath, [...o.nodeFlags.split(' ').filter(f => f !== ''), daemonLauncher(o.build, dir), 'daemon'], o, dir) : undefined
  const go = sides.has('p2pd') ? await runSide((await buildP2pd()).p2pd, [], o, dir) : undefined
  const direct = await inProcessThroughput(o)
  const emptyNodeKiB = await emptyNodeRssKiB()
  const result = { options: o, loadAtStart, loadAtEnd: loadAverage(), ts, p2pd: go, inProcessThroughputMiBs: direct, emptyNodeRssKiB: emptyNodeKiB }
  await mkdir(o.out, { recursive: true })
  await writeFile(join(o.out, 'daemon.json'), JSON.stringify(result, null, 2) + '\n')
  const cell = (r: SideResult | undefined, f: (r: SideResult) => string): string => r === undefined ? 'not run' : f(r)
  const row = (name: string, f: (r: SideResult) => string): string => `| ${name} | ${cell(ts, f)} | ${cell(go, f)} |`
  const md = [
    `# Daemon: ts-libp2p daemon (${o.build === 'src' ? 'from the checkout\'s .ts sources' : 'installed package, compiled'}) vs p2pd v0.9.2 (${o.bytes >> 20} MiB x ${o.repeat}, load ${loadAtStart.toFixed(1)})`, '',
    '| measure | ts-libp2p daemon | p2pd |', '| --- | --- | --- |',
    row('stream throughput client->A->B->client, MiB/s (median)', r => r.throughputMiBs.median.toFixed(1)),
    row('stream latency, 1-byte echo RTT, µs (median / p99)', r => `${r.latencyUs.median.toFixed(0)} / ${r.latencyUs.p99.toFixed(0)}`),
    row('control round trip (IDENTIFY, new connection), µs (median / p99)', r => `${r.controlRoundTripUs.median.toFixed(0)} / ${r.controlRoundTripUs.p99.toFixed(0)}`),
    row('daemon RSS idle, MiB', r => (r.rssIdleKiB / 1024).toFixed(1)),
    row(`daemon RSS with more connections (of ${o.conns} dialed, held), MiB`, r => `${(r.rssWithConnsKiB / 1024).toFixed(1)} (${r.conns})`),
    row('daemon RSS per held connection ((with - idle) / held), KiB', r => r.conns > 0 ? ((r.rssWithConnsKiB - r.rssIdleKiB) / r.conns).toFixed(1) : '-'),
    '', `In-process (two ts-libp2p nodes, the stream API, no daemon): ${direct.median.toFixed(1)} MiB/s (median).`,
    `An empty Node ${process.version} process (the floor under our RSS): ${(emptyNodeKiB / 1024).toFixed(1)} MiB.`, ''
  ].join('\n')
  await writeFile(join(o.out, 'daemon.md'), md)
  process.stdout.write(md)
} finally {
  await rm(dir, { recursive: true, force: true })
}

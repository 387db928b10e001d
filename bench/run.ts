/**
 * `npm run bench`: the side-by-side benchmark suite. ts-libp2p, js-libp2p and the physical
 * reference (raw node:net TCP, node:crypto ChaCha20-Poly1305) each run as their own server and
 * client processes (bench/peers/*-peer.ts) on loopback, driven over JSON lines; the sides take
 * turns so they never compete for the CPU. Results go to <out>/latest.json and latest.md.
 *
 *   node bench/run.ts                 # full run (~10 minutes on 2 cores)
 *   node bench/run.ts --quick         # smoke run with tiny sizes (also BENCH_QUICK=1)
 *   node bench/run.ts --only throughput --stacks noise+yamux --repeat 5
 *
 * All flags and environment variables: bench/lib/config.ts.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseConfig } from './lib/config.ts'
import { buildPeers } from './lib/build.ts'
import type { PeerBuild } from './lib/build.ts'
import type { BenchConfig, Side } from './lib/config.ts'
import { spawnPeer } from './lib/child.ts'
import type { Json, PeerProcess } from './lib/child.ts'
import { summarize } from './lib/stats.ts'
import { measureStartup } from './startup/measure.ts'
import { gitCommit, loadAverage, machineInfo, renderMarkdown, formatBytes } from './lib/report.ts'
import type { BenchResult, Row, SideResult } from './lib/report.ts'

const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url))
const GiB = 2 ** 30
const KiB = 1024
const STACK_LABELS: Record<string, string> = { 'noise+yamux': 'Noise + Yamux', 'tls+yamux': 'TLS 1.3 + Yamux (muxer through ALPN)', 'noise+mplex': 'Noise + mplex', 'plaintext+yamux': 'plaintext + Yamux', websockets: 'Noise + Yamux over WebSockets (ws://)', quic: 'QUIC v1 (its own TLS 1.3 and streams, over UDP)' }

interface Pair { side: Side, server: PeerProcess, client: PeerProcess }

const config = parseConfig(process.argv.slice(2), process.env)
const startedAt = Date.now()
const loadAtStart = loadAverage()
const live = new Set<PeerProcess>()
const rows: Row[] = []

function progress (text: string): void {
  process.stderr.write(`[bench ${((Date.now() - startedAt) / 1000).toFixed(1).padStart(6)} s] ${text}\n`)
}

/** Set by main(): the compiled peers, unless --from-source. */
let peerBuild: PeerBuild | undefined

/** Which peer program a side runs: 'ts-off' is ours with the resource manager off. */
function peerKind (side: Side): 'ts' | 'js' | 'raw' {
  return side === 'ts-off' ? 'ts' : side
}

function peerScript (side: Side): string {
  return peerBuild === undefined
    ? join(REPO_ROOT, 'bench', 'peers', `${peerKind(side)}-peer.ts`)
    : join(peerBuild.peersDir, `${peerKind(side)}-peer.js`)
}

async function startPair (side: Side, stack: string, identify: boolean): Promise<Pair> {
  const common = ['--stack', stack, '--identify', identify ? '1' : '0', '--chunk', String(config.chunkSize)]
  if (side === 'ts') common.push('--resource-manager', config.resourceManager ? 'on' : 'off')
  if (side === 'ts-off') common.push('--resource-manager', 'off')
  const name = `${side}/${stack}${identify ? '+identify' : ''}`
  const profile = (role: string): string[] => config.cpuProfDir === undefined
    ? []
    : ['--cpu-prof', '--cpu-prof-dir', config.cpuProfDir, '--cpu-prof-name', `${side}-${stack}-${role}-${Date.now()}.cpuprofile`]
  const server = await spawnPeer({ script: peerScript(side), args: ['--role', 'server', ...common], name: `${name} server`, inheritStderr: config.debug, nodeArgs: profile('server') })
  live.add(server)
  const client = await spawnPeer({ script: peerScript(side), args: ['--role', 'client', ...common, '--addr', String(server.ready.addrs[0])], name: `${name} client`, inheritStderr: config.debug, nodeArgs: profile('client') })
  live.add(client)
  return { side, server, client }
}

async function stopPair (pair: Pair): Promise<void> {
  await Promise.all([pair.client, pair.server].map(async (peer) => { await peer.stop(); live.delete(peer) }))
}

async function cpuSeconds (peer: PeerProcess): Promise<number> {
  const usage = await peer.command('cpu')
  return (usage.userUs + usage.systemUs) / 1e6
}

function sideResult (samples: number[], detail?: Record<string, unknown>): SideResult {
  return { ...summarize(samples), samples, ...(detail !== undefined ? { detail } : {}) }
}

function addRow (row: Omit<Row, 'results' | 'ratio' | 'failures'>, samples: Partial<Record<Side, number[]>>, details: Partial<Record<Side, Record<string, unknown>>> = {}, failures: Partial<Record<Side, string[]>> = {}): void {
  const results: Row['results'] = {}
  const failed: Row['failures'] = {}
  for (const side of ['ts', 'ts-off', 'js', 'raw'] as const) {
    const values = samples[side]
    if (values !== undefined && values.length > 0) results[side] = sideResult(values, details[side])
    const errors = failures[side]
    if (errors !== undefined && errors.length > 0) failed[side] = errors
  }
  const ratio = results.ts !== undefined && results.js !== undefined ? results.ts.median / results.js.median : undefined
  rows.push({ ...row, results, ...(ratio !== undefined ? { ratio } : {}), ...(Object.keys(failed).length > 0 ? { failures: failed } : {}) })
}

function libp2pSides (): Side[] {
  return config.sides.filter(side => side !== 'raw')
}

function transferTimeout (bytes: number): number {
  // generous: 20 Mbit/s would be a broken run, not a slow one
  return 60_000 + bytes * 8 / 20e6 * 1000
}

// ---------------------------------------------------------------------------- sections --

async function cipherSection (rawPair: Pair): Promise<void> {
  progress(`ChaCha20-Poly1305, ${formatBytes(config.cipherBytes)} per mode × ${config.repeat}`)
  const modes = { bulkSealGbps: 'seal, bulk', bulkOpenGbps: 'open, bulk', frameSealGbps: 'seal, per 64 KiB frame (as Noise)', frameOpenGbps: 'open, per 64 KiB frame (as Noise)' }
  const samples: Record<string, number[]> = {}
  for (let rep = 0; rep < config.repeat; rep++) {
    const r = await rawPair.client.command('cipher', { bytes: config.cipherBytes, frame: config.cipherFrame }, transferTimeout(config.cipherBytes * 4))
    for (const key of Object.keys(modes)) (samples[key] ??= []).push(r[key])
  }
  for (const [key, label] of Object.entries(modes)) {
    addRow({ id: `cipher/${key}`, section: 'cipher', label: `ChaCha20-Poly1305 ${label}, one core`, unit: 'Gbit/s', better: 'higher' }, { raw: samples[key] })
  }
}

interface TransferSamples { gbps: number[], cpuPerGiB: number[], clientCpu: number[], serverCpu: number[], failures: string[] }

/**
 * Transfers `bytes` in `direction`, `repeat` times per pair, the pairs taking turns. A failed
 * transfer is recorded, not fatal (js-libp2p's mplex sometimes resets 1 GiB streams); the
 * peer dials a new connection for the next one.
 */
async function measureTransfers (pairs: Pair[], direction: 'upload' | 'download', out: Map<Side, TransferSamples>): Promise<void> {
  for (let rep = 0; rep < config.repeat; rep++) {
    for (const pair of pairs) {
      let samples = out.get(pair.side)
      if (samples === undefined) out.set(pair.side, samples = { gbps: [], cpuPerGiB: [], clientCpu: [], serverCpu: [], failures: [] })
      const [client0, server0] = await Promise.all([cpuSeconds(pair.client), cpuSeconds(pair.server)])
      let r: Json
      try {
        r = await pair.client.command('throughput', { direction, bytes: config.transferBytes }, transferTimeout(config.transferBytes))
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err)
        samples.failures.push(message)
        progress(`  ${pair.side} ${direction} FAILED: ${message}`)
        continue
      }
      const [client1, server1] = await Promise.all([cpuSeconds(pair.client), cpuSeconds(pair.server)])
      const gib = config.transferBytes / GiB
      const gbps = config.transferBytes * 8 / r.ms / 1e6
      samples.gbps.push(gbps)
      samples.clientCpu.push((client1 - client0) / gib)
      samples.serverCpu.push((server1 - server0) / gib)
      samples.cpuPerGiB.push((client1 - client0 + server1 - server0) / gib)
      progress(`  ${pair.side} ${direction} ${gbps.toFixed(2)} Gbit/s, CPU ${((client1 - client0 + server1 - server0) / gib).toFixed(2)} s/GiB`)
    }
  }
}

async function warmUp (pairs: Pair[]): Promise<void> {
  if (config.warmupBytes === 0) return
  for (const pair of pairs) {
    for (const direction of ['upload', 'download']) {
      await pair.client.command('throughput', { direction, bytes: config.warmupBytes }, transferTimeout(config.warmupBytes))
    }
  }
}

const rawTransfers = new Map<'upload' | 'download', TransferSamples>()

async function throughputSection (stack: string, pairs: Pair[], rawPair: Pair | undefined): Promise<void> {
  const label = STACK_LABELS[stack] ?? stack
  const cpu = new Map<Side, { total: number[], client: number[], server: number[] }>()
  for (const direction of ['upload', 'download'] as const) {
    progress(`throughput ${stack} ${direction}, ${formatBytes(config.transferBytes)} × ${config.repeat}`)
    const measured = new Map<Side, TransferSamples>()
    // the reference is the same for every stack: measure it once, with the first stack
    const rawCached = rawTransfers.get(direction)
    const turn = rawPair !== undefined && rawCached === undefined ? [...pairs, rawPair] : pairs
    await measureTransfers(turn, direction, measured)
    if (rawPair !== undefined) {
      const raw = measured.get('raw')
      if (raw !== undefined) rawTransfers.set(direction, raw)
      if (rawCached !== undefined) measured.set('raw', rawCached)
    }
    const samples: Partial<Record<Side, number[]>> = {}
    const failures: Partial<Record<Side, string[]>> = {}
    for (const [side, s] of measured) {
      samples[side] = s.gbps
      failures[side] = s.failures
      let c = cpu.get(side)
      if (c === undefined) cpu.set(side, c = { total: [], client: [], server: [] })
      c.total.push(...s.cpuPerGiB)
      c.client.push(...s.clientCpu)
      c.server.push(...s.serverCpu)
    }
    addRow({ id: `throughput/${stack}/${direction}`, section: 'throughput', label: `1 stream, ${formatBytes(config.transferBytes)} ${direction}, ${label} (reference: raw TCP)`, unit: 'Gbit/s', better: 'higher' }, samples, {}, failures)
  }
  const samples: Partial<Record<Side, number[]>> = {}
  const details: Partial<Record<Side, Record<string, unknown>>> = {}
  for (const [side, c] of cpu) {
    samples[side] = c.total
    details[side] = { clientSecondsPerGiB: summarize(c.client).median, serverSecondsPerGiB: summarize(c.server).median }
  }
  addRow({ id: `cpu/${stack}`, section: 'cpu', label: `CPU per GiB moved, client + server, ${label} (reference: raw TCP)`, unit: 's/GiB', better: 'lower' }, samples, details)
}

async function streamsSection (pairs: Pair[]): Promise<void> {
  // The opens run in rounds, the sides taking turns (the order reversed every other round) so
  // a swing of the machine's load falls on every side alike. Besides the latency each round
  // gives the CPU time both processes spent per open: unlike the latency it hardly moves with
  // the load, and the rounds pair up, so "ours" vs "ours, resource manager off" is the median
  // of per-round ratios (the resource manager's cost per open, issue 13: < 5 %), not a ratio
  // of two wall-clock medians that swing ±10 % between runs.
  const rounds = Math.min(config.repeat * 2, config.streamCount)
  progress(`stream open + negotiation + 1-byte echo × ${config.streamCount}, in ${rounds} rounds`)
  const samples: Partial<Record<Side, number[]>> = {}
  const cpuPerOpen: Partial<Record<Side, number[]>> = {}
  for (let round = 0; round < rounds; round++) {
    const count = Math.floor(config.streamCount * (round + 1) / rounds) - Math.floor(config.streamCount * round / rounds)
    for (const pair of round % 2 === 0 ? pairs : [...pairs].reverse()) {
      const before = await Promise.all([cpuSeconds(pair.client), cpuSeconds(pair.server)])
      const { ms } = await pair.client.command('streams', { count })
      const after = await Promise.all([cpuSeconds(pair.client), cpuSeconds(pair.server)])
      ;(samples[pair.side] ??= []).push(...(ms as number[]))
      ;(cpuPerOpen[pair.side] ??= []).push((after[0] - before[0] + after[1] - before[1]) / count * 1e6)
    }
  }
  addRow({ id: 'streams/open-echo', section: 'streams', label: 'new stream + protocol negotiation + 1-byte echo, open connection (reference: 1-byte TCP round trip)', unit: 'ms', better: 'lower', showP99: true }, samples)
  addRow({ id: 'streams/open-cpu', section: 'streams', label: `CPU per stream open as above, client + server, median of ${rounds} rounds (the resource manager cost: median of the per-round ratios)`, unit: 'µs', better: 'lower' }, cpuPerOpen)
  const on = cpuPerOpen.ts
  const off = cpuPerOpen['ts-off']
  if (on !== undefined && off !== undefined) rows[rows.length - 1].pairedCost = summarize(on.map((value, i) => value / off[i])).median - 1
}

async function concurrentSection (pairs: Pair[]): Promise<void> {
  progress(`${config.concurrentStreams} concurrent streams × ${formatBytes(config.concurrentBytes)} × ${config.repeat}`)
  const samples: Partial<Record<Side, number[]>> = {}
  const total = config.concurrentStreams * config.concurrentBytes
  const failures: Partial<Record<Side, string[]>> = {}
  // CPU seconds of client and server per GiB: on two cores shared by both processes this is
  // what bounds the rate, and unlike the rate it hardly moves with the machine's load
  const cpuSamples: Partial<Record<Side, number[]>> = {}
  for (let rep = 0; rep < config.repeat; rep++) {
    for (const pair of pairs) {
      try {
        const before = await Promise.all([cpuSeconds(pair.client), cpuSeconds(pair.server)])
        const r = await pair.client.command('concurrent', { streams: config.concurrentStreams, bytes: config.concurrentBytes }, transferTimeout(total))
        const after = await Promise.all([cpuSeconds(pair.client), cpuSeconds(pair.server)])
        ;(samples[pair.side] ??= []).push(total * 8 / r.ms / 1e6)
        ;(cpuSamples[pair.side] ??= []).push((after[0] - before[0] + after[1] - before[1]) / (total / GiB))
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err)
        ;(failures[pair.side] ??= []).push(message)
        progress(`  ${pair.side} concurrent FAILED: ${message}`)
      }
    }
  }
  addRow({ id: 'concurrent/upload', section: 'concurrent', label: `${config.concurrentStreams} concurrent streams × ${formatBytes(config.concurrentBytes)} upload, one connection, Noise + Yamux (reference: as many TCP connections)`, unit: 'Gbit/s', better: 'higher' }, samples, {}, failures)
  addRow({ id: 'concurrent/cpu', section: 'concurrent', label: `CPU per GiB moved, client + server, ${config.concurrentStreams} concurrent streams, Noise + Yamux (reference: as many TCP connections)`, unit: 's/GiB', better: 'lower' }, cpuSamples)
}

async function setupSection (stack: string): Promise<void> {
  for (const identify of [false, true]) {
    const sides = identify ? libp2pSides() : config.sides
    progress(`connection setup${identify ? ' with identify' : ''}, ${config.setupCount} fresh connections`)
    const total: Partial<Record<Side, number[]>> = {}
    const dial: Partial<Record<Side, number[]>> = {}
    const identified: Partial<Record<Side, number[]>> = {}
    for (const side of sides) {
      const pair = await startPair(side, stack, identify)
      try {
        const r = await pair.client.command('setup', { count: config.setupCount })
        total[side] = r.totalMs
        dial[side] = r.dialMs
        if (identify) identified[side] = r.identifyMs
      } finally {
        await stopPair(pair)
      }
    }
    const suffix = identify ? ', identify on' : ', no identify'
    addRow({ id: `setup/${identify ? 'identify' : 'plain'}/dial`, section: 'setup', label: `dial: TCP + Noise + Yamux${suffix} (reference: TCP connect)`, unit: 'ms', better: 'lower', showP99: true }, dial)
    addRow({ id: `setup/${identify ? 'identify' : 'plain'}/dial-ping`, section: 'setup', label: `dial + first ping RTT${suffix} (reference: connect + 32-byte echo)`, unit: 'ms', better: 'lower', showP99: true }, total)
    if (identify) addRow({ id: 'setup/identify/identified', section: 'setup', label: 'dial until identify done', unit: 'ms', better: 'lower', showP99: true }, identified)
  }
}

/**
 * Dial + first ping over QUIC, beside the TCP stack's rows (one round trip of handshake), after
 * as many unmeasured warm-up dials on every side: our handshake is JavaScript and takes 100-150
 * dials of a fresh process to be compiled (bench/quic/profile-dial.ts --warmup 0 shows it), so
 * measuring from the first dial put a varying part of that warm-up into the median (5.6 to
 * 8.0 ms in quiet runs with no code change); js-libp2p's handshake is a Rust addon.
 */
async function quicSetupSection (): Promise<void> {
  progress(`connection setup over QUIC, ${config.setupCount} fresh connections after ${config.setupCount} warm-up dials`)
  const total: Partial<Record<Side, number[]>> = {}
  const dial: Partial<Record<Side, number[]>> = {}
  for (const side of libp2pSides()) {
    const pair = await startPair(side, 'quic', false)
    try {
      await pair.client.command('setup', { count: config.setupCount })
      const r = await pair.client.command('setup', { count: config.setupCount })
      total[side] = r.totalMs
      dial[side] = r.dialMs
    } finally {
      await stopPair(pair)
    }
  }
  addRow({ id: 'setup/quic/dial', section: 'setup', label: 'dial: QUIC v1, no identify, after warm-up dials', unit: 'ms', better: 'lower', showP99: true }, dial)
  addRow({ id: 'setup/quic/dial-ping', section: 'setup', label: 'dial + first ping RTT: QUIC v1, no identify, after warm-up dials', unit: 'ms', better: 'lower', showP99: true }, total)
}

async function memorySection (stack: string): Promise<void> {
  const n = config.idleConnections
  const figures = { serverRss: [] as number[], clientRss: [] as number[], serverHeap: [] as number[], clientHeap: [] as number[] }
  const samples = new Map<Side, typeof figures>()
  for (let rep = 0; rep < config.memoryRepeat; rep++) {
    for (const side of config.sides) {
      progress(`memory: ${n} idle connections, ${side} (${rep + 1}/${config.memoryRepeat})`)
      const pair = await startPair(side, stack, false)
      try {
        // a first connection pays one-time costs (lazy compilation, caches); keep it out of the figure
        await pair.client.command('connectMany', { count: 1 })
        await pair.server.command('waitConnections', { count: 1 })
        const [server0, client0] = await Promise.all([pair.server.command('mem'), pair.client.command('mem')])
        await pair.client.command('connectMany', { count: n })
        await pair.server.command('waitConnections', { count: n + 1 })
        const [server1, client1] = await Promise.all([pair.server.command('mem'), pair.client.command('mem')])
        let s = samples.get(side)
        if (s === undefined) samples.set(side, s = { serverRss: [], clientRss: [], serverHeap: [], clientHeap: [] })
        const perConn = (after: Json, before: Json, key: string): number => (after[key] - before[key]) / n / KiB
        s.serverRss.push(perConn(server1, server0, 'rss'))
        s.clientRss.push(perConn(client1, client0, 'rss'))
        s.serverHeap.push(perConn(server1, server0, 'heapUsed'))
        s.clientHeap.push(perConn(client1, client0, 'heapUsed'))
      } finally {
        await stopPair(pair)
      }
    }
  }
  const pick = (key: keyof typeof figures): Partial<Record<Side, number[]>> => Object.fromEntries([...samples].map(([side, s]) => [side, s[key]]))
  const ref = '(reference: idle TCP sockets)'
  addRow({ id: 'memory/server/rss', section: 'memory', label: `RSS per idle connection, listener, ${n} connections ${ref}`, unit: 'KiB', better: 'lower' }, pick('serverRss'))
  addRow({ id: 'memory/client/rss', section: 'memory', label: `RSS per idle connection, dialer, ${n} connections ${ref}`, unit: 'KiB', better: 'lower' }, pick('clientRss'))
  addRow({ id: 'memory/server/heap', section: 'memory', label: `JS heap per idle connection, listener ${ref}`, unit: 'KiB', better: 'lower' }, pick('serverHeap'))
  addRow({ id: 'memory/client/heap', section: 'memory', label: `JS heap per idle connection, dialer ${ref}`, unit: 'KiB', better: 'lower' }, pick('clientHeap'))
}

/** Cold starts, fresh processes: the perf contract's client, the CLI's ping, createLibp2p + dial (bench/startup/). */
async function startupSection (): Promise<void> {
  const programs = peerBuild === undefined
    ? { tsCli: join(REPO_ROOT, 'src', 'cli', 'main.ts'), tsCold: join(REPO_ROOT, 'bench', 'startup', 'ts-cold.ts'), jsCold: join(REPO_ROOT, 'bench', 'startup', 'js-cold.ts'), jsPerf: join(REPO_ROOT, 'interop', 'test-plans', 'js-perf.ts') }
    : { tsCli: join(peerBuild.root, 'src', 'cli', 'main.js'), tsCold: join(peerBuild.root, 'bench', 'startup', 'ts-cold.js'), jsCold: join(peerBuild.root, 'bench', 'startup', 'js-cold.js'), jsPerf: join(peerBuild.root, 'interop', 'test-plans', 'js-perf.js') }
  for (const row of await measureStartup(programs, config.startupRuns, progress)) {
    addRow({ id: row.id, section: 'startup', label: row.label, unit: 'ms', better: 'lower', showP99: true }, row.samples, {}, row.failures)
  }
}

// ---------------------------------------------------------------------------- main --

async function main (config: BenchConfig): Promise<void> {
  const has = (section: BenchConfig['sections'][number]): boolean => config.sections.includes(section)
  const mainStack = config.stacks.includes('noise+yamux') ? 'noise+yamux' : config.stacks[0]
  if (!config.fromSource) {
    progress('compiling the peers to JavaScript (see bench/lib/build.ts)')
    peerBuild = buildPeers()
  }
  const wantRaw = config.sides.includes('raw')
  let rawPair: Pair | undefined
  if (wantRaw && (has('cipher') || has('throughput') || has('streams') || has('concurrent'))) rawPair = await startPair('raw', 'tcp', false)

  if (rawPair !== undefined && has('cipher')) await cipherSection(rawPair)

  if (has('throughput') || has('streams') || has('concurrent')) {
    // the main stack last, so its pairs stay up for the streams and concurrency figures
    const stacks = has('throughput') ? [...config.stacks.filter(s => s !== mainStack), mainStack] : [mainStack]
    for (const stack of stacks) {
      progress(`starting ${libp2pSides().join(', ')} peers for ${stack}`)
      const pairs = await Promise.all(libp2pSides().map(async side => await startPair(side, stack, true)))
      try {
        await warmUp(rawPair !== undefined && stack === stacks[0] ? [...pairs, rawPair] : pairs)
        if (has('throughput')) await throughputSection(stack, pairs, rawPair)
        if (stack === mainStack) {
          const withRaw = rawPair !== undefined ? [...pairs, rawPair] : pairs
          if (has('streams')) await streamsSection(withRaw)
          if (has('concurrent')) await concurrentSection(withRaw)
        }
      } finally {
        for (const pair of pairs) await stopPair(pair)
      }
    }
  }
  if (rawPair !== undefined) await stopPair(rawPair)

  if (has('setup')) await setupSection(mainStack)
  if (has('setup') && config.stacks.includes('quic')) await quicSetupSection()
  if (has('startup')) await startupSection()
  if (has('memory')) await memorySection(mainStack)

  const { outDir, debug, cpuProfDir, ...shown } = config
  const order = ['throughput', 'cpu', 'concurrent', 'setup', 'startup', 'streams', 'memory', 'cipher']
  rows.sort((a, b) => order.indexOf(a.section) - order.indexOf(b.section))
  const result: BenchResult = {
    date: new Date().toISOString(),
    machine: machineInfo(loadAtStart),
    commit: gitCommit(REPO_ROOT),
    durationSeconds: (Date.now() - startedAt) / 1000,
    config: shown,
    rows
  }
  await mkdir(outDir, { recursive: true })
  const markdown = renderMarkdown(result)
  await writeFile(join(outDir, 'latest.json'), JSON.stringify(result, null, 2) + '\n')
  await writeFile(join(outDir, 'latest.md'), markdown)
  process.stdout.write(markdown)
  progress(`done; results in ${join(outDir, 'latest.json')} and latest.md`)
}

main(config).catch(async (err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
  process.exitCode = 1
}).finally(async () => {
  await Promise.all([...live].map(async (peer) => { await peer.stop() }))
  peerBuild?.remove()
})

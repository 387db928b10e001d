/**
 * `npm run interop:perf`: the test-plans perf contract (perf/README.md) as a matrix: ts-libp2p
 * as client and as server against js-, go- and rust-libp2p (and itself), over tcp and quic-v1,
 * in one run: upload, download, and connection + 1-byte round trip, each a fresh client
 * process, as test-plans' runner does (perf/runner/src/index.ts), on loopback.
 *
 *   npm run interop:perf -- [--filter S]... [--bytes N] [--iterations N] [--latency-iterations N]
 *                           [--json FILE] [--readme]
 *
 * The server is started once per (server, transport pair) with `--run-server --server-address
 * 127.0.0.1:PORT` on a port free for both TCP and UDP; it has the zero-seed perf identity.
 * Ours is `ts-libp2p perf`; the others are their line-contract peers behind perf-peer.ts.
 * Figures here are loopback CPU cost, not the public dashboard's cross-region numbers.
 */
import { spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { createSocket } from 'node:dgram'
import { createInterface } from 'node:readline'
import { readFile, writeFile, mkdir } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

const REPO = fileURLToPath(new URL('../../', import.meta.url))
const HERE = fileURLToPath(new URL('.', import.meta.url))
const TABLE_START = '<!-- interop-perf:start -->'
const TABLE_END = '<!-- interop-perf:end -->'
const MIB = 1024 * 1024

export interface PerfImplementation { id: string, transports: Array<'tcp' | 'quic-v1'>, command: string[], unavailable?: () => string | undefined }

export const PERF_IMPLEMENTATIONS: PerfImplementation[] = [
  { id: 'ts', transports: ['tcp', 'quic-v1'], command: [process.execPath, `${REPO}bin/ts-libp2p.js`, 'perf'] },
  { id: 'js', transports: ['tcp', 'quic-v1'], command: [process.execPath, `${HERE}perf-peer.ts`, 'js'] },
  { id: 'go', transports: ['tcp', 'quic-v1'], command: [process.execPath, `${HERE}perf-peer.ts`, 'go'] },
  { id: 'rust', transports: ['tcp', 'quic-v1'], command: [process.execPath, `${HERE}perf-peer.ts`, 'rust'], unavailable: () => existsSync(`${REPO}interop/rust-peer/Cargo.toml`) ? undefined : 'interop/rust-peer has not landed' }
]

/**
 * js-libp2p in one process (js-perf.ts), client and server: what interop:perf:compare and the
 * cold-start benchmark time, with no line-contract peer between the clock and the connection.
 */
export const JS_ONE_PROCESS_PERF: PerfImplementation = { id: 'js', transports: ['tcp', 'quic-v1'], command: [process.execPath, `${HERE}js-perf.ts`] }

export interface PerfRow {
  name: string
  client: string
  server: string
  transport: 'tcp' | 'quic-v1'
  status: 'pass' | 'fail' | 'unavailable'
  /** bit/s, one value per iteration */
  upload?: number[]
  download?: number[]
  /** seconds, connection + 1 byte each way, one value per iteration */
  latency?: number[]
  reason?: string
}

export interface PerfOptions { bytes: number, iterations: number, latencyIterations: number, filters: string[], clientTimeoutMs?: number, onRow?: (row: PerfRow) => void }

/** A port free for both TCP and UDP on 127.0.0.1 (the perf server listens on both). */
export async function freeTcpUdpPort (): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer()
      server.once('error', reject)
      server.listen(0, '127.0.0.1', () => { const p = (server.address() as { port: number }).port; server.close(() => { resolve(p) }) })
    })
    const udpFree = await new Promise<boolean>((resolve) => {
      const socket = createSocket('udp4')
      socket.once('error', () => { socket.close(); resolve(false) })
      socket.bind(port, '127.0.0.1', () => { socket.close(); resolve(true) })
    })
    if (udpFree) return port
  }
  throw new Error('no port free for both TCP and UDP')
}

export interface Server { stop: () => Promise<void> }

export async function startServer (impl: PerfImplementation, port: number): Promise<Server> {
  const child = spawn(impl.command[0], [...impl.command.slice(1), '--run-server', '--server-address', `127.0.0.1:${port}`], { stdio: ['ignore', 'pipe', 'pipe'], detached: true })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (t: string) => { stderr = (stderr + t).slice(-2000) })
  const exited = new Promise(resolve => child.once('exit', resolve))
  const killGroup = (signal: NodeJS.Signals): void => { try { process.kill(-child.pid!, signal) } catch { /* gone */ } }
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => { reject(new Error(`${impl.id} perf server not ready in 300 s`)) }, 300_000)
      void exited.then(() => { clearTimeout(timer); reject(new Error(`${impl.id} perf server exited: ${stderr.trim().split('\n').slice(-2).join(' | ')}`)) })
      createInterface({ input: child.stdout }).once('line', () => { clearTimeout(timer); resolve() })
    })
  } catch (err) {
    killGroup('SIGKILL')
    throw err
  }
  return {
    stop: async () => {
      killGroup('SIGTERM')
      const timer = setTimeout(() => { killGroup('SIGKILL') }, 5000)
      await exited
      clearTimeout(timer)
      killGroup('SIGKILL')
    }
  }
}

/** Runs one client process; resolves with its final line's seconds. */
export async function runClient (impl: PerfImplementation, port: number, transport: string, upload: number, download: number, timeoutMs: number): Promise<number> {
  const child = spawn(impl.command[0], [...impl.command.slice(1), '--server-address', `127.0.0.1:${port}`, '--transport', transport, '--upload-bytes', String(upload), '--download-bytes', String(download)], { stdio: ['ignore', 'pipe', 'pipe'], detached: true })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (t: string) => { stdout += t })
  child.stderr.setEncoding('utf8').on('data', (t: string) => { stderr = (stderr + t).slice(-2000) })
  const timer = setTimeout(() => { try { process.kill(-child.pid!, 'SIGKILL') } catch { /* gone */ } }, timeoutMs)
  const code = await new Promise<number | null>(resolve => child.once('exit', resolve))
  clearTimeout(timer)
  try { process.kill(-child.pid!, 'SIGKILL') } catch { /* gone */ }
  const final = stdout.split('\n').filter(l => l.startsWith('{')).map(l => JSON.parse(l)).filter(o => o.type === 'final').at(-1)
  if (code !== 0 || final === undefined) throw new Error(`${impl.id} client exited ${String(code)}: ${stderr.trim().split('\n').filter(l => !l.trim().startsWith('at ')).slice(-2).join(' | ')}`)
  if (final.uploadBytes !== upload || final.downloadBytes !== download) throw new Error(`${impl.id} client moved ${String(final.uploadBytes)}/${String(final.downloadBytes)} bytes, wanted ${upload}/${download}`)
  return final.timeSeconds
}

export async function runPerfMatrix (opts: PerfOptions): Promise<PerfRow[]> {
  const rows: PerfRow[] = []
  const byId = new Map(PERF_IMPLEMENTATIONS.map(i => [i.id, i]))
  const pairs: Array<[string, string]> = []
  for (const other of PERF_IMPLEMENTATIONS) {
    pairs.push(['ts', other.id])
    if (other.id !== 'ts') pairs.push([other.id, 'ts'])
  }
  for (const [clientId, serverId] of pairs) {
    for (const transport of ['tcp', 'quic-v1'] as const) {
      const name = `${clientId} x ${serverId} (${transport})`
      if (opts.filters.length > 0 && !opts.filters.some(f => name.includes(f))) continue
      const client = byId.get(clientId)!
      const server = byId.get(serverId)!
      const why = client.unavailable?.() ?? server.unavailable?.()
      const row: PerfRow = { name, client: clientId, server: serverId, transport, status: 'pass' }
      if (why !== undefined || !client.transports.includes(transport) || !server.transports.includes(transport)) {
        rows.push({ ...row, status: 'unavailable', reason: why ?? `no ${transport}` })
        opts.onRow?.(rows.at(-1)!)
        continue
      }
      const port = await freeTcpUdpPort()
      let running: Server | undefined
      try {
        running = await startServer(server, port)
        const timeoutMs = opts.clientTimeoutMs ?? 300_000
        row.upload = []
        row.download = []
        row.latency = []
        for (let i = 0; i < opts.iterations; i++) row.upload.push(opts.bytes * 8 / await runClient(client, port, transport, opts.bytes, 0, timeoutMs))
        for (let i = 0; i < opts.iterations; i++) row.download.push(opts.bytes * 8 / await runClient(client, port, transport, 0, opts.bytes, timeoutMs))
        for (let i = 0; i < opts.latencyIterations; i++) row.latency.push(await runClient(client, port, transport, 1, 1, timeoutMs))
      } catch (err) {
        row.status = 'fail'
        row.reason = (err as Error).message
      } finally {
        await running?.stop()
      }
      rows.push(row)
      opts.onRow?.(row)
    }
  }
  return rows
}

export function median (values: number[] | undefined): number | undefined {
  if (values === undefined || values.length === 0) return undefined
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}

export function perfTable (rows: PerfRow[]): string {
  const gbit = (v?: number): string => v === undefined ? '' : (v / 1e9).toFixed(2)
  const ms = (v?: number): string => v === undefined ? '' : (v * 1000).toFixed(1)
  const lines = ['| client x server | transport | result | upload (Gbit/s) | download (Gbit/s) | connection + 1 B round trip (ms) |', '| --- | --- | --- | --- | --- | --- |']
  for (const r of rows) lines.push(`| ${r.client} x ${r.server} | ${r.transport} | ${r.status === 'pass' ? 'pass' : `${r.status}: ${(r.reason ?? '').replaceAll('|', '\\|').slice(0, 200)}`} | ${gbit(median(r.upload))} | ${gbit(median(r.download))} | ${ms(median(r.latency))} |`)
  return lines.join('\n')
}

async function main (): Promise<number> {
  const { values } = parseArgs({
    options: {
      filter: { type: 'string', multiple: true, default: [] },
      bytes: { type: 'string', default: String(100 * MIB) },
      iterations: { type: 'string', default: '1' },
      'latency-iterations': { type: 'string', default: '5' },
      json: { type: 'string', default: `${REPO}bench/results/interop-perf.json` },
      readme: { type: 'boolean', default: false }
    }
  })
  const opts: PerfOptions = { bytes: Number(values.bytes), iterations: Number(values.iterations), latencyIterations: Number(values['latency-iterations']), filters: values.filter }
  for (const [k, v] of Object.entries({ bytes: opts.bytes, iterations: opts.iterations, 'latency-iterations': opts.latencyIterations })) {
    if (!Number.isSafeInteger(v) || v < 1) throw new Error(`--${k} must be a positive integer`)
  }
  const started = new Date()
  const rows = await runPerfMatrix({
    ...opts,
    onRow: (r) => {
      const figures = r.status === 'pass' ? ` up ${(median(r.upload)! / 1e9).toFixed(2)} Gbit/s, down ${(median(r.download)! / 1e9).toFixed(2)} Gbit/s, conn+1B ${(median(r.latency)! * 1000).toFixed(1)} ms` : ` (${r.reason ?? ''})`
      process.stdout.write(`${r.status.padEnd(11)} ${r.name}${figures}\n`)
    }
  })
  const summary = `${rows.filter(r => r.status === 'pass').length} passed, ${rows.filter(r => r.status === 'fail').length} failed, ${rows.filter(r => r.status === 'unavailable').length} unavailable`
  process.stdout.write(`${summary}\n`)
  await mkdir(dirname(values.json), { recursive: true })
  await writeFile(values.json, `${JSON.stringify({ date: started.toISOString(), bytes: opts.bytes, iterations: opts.iterations, latencyIterations: opts.latencyIterations, units: { upload: 'bit/s', download: 'bit/s', latency: 's' }, summary, rows }, null, 2)}\n`)
  process.stdout.write(`JSON: ${values.json}\n`)
  if (values.readme) {
    const readme = await readFile(`${REPO}README.md`, 'utf8')
    const start = readme.indexOf(TABLE_START)
    const end = readme.indexOf(TABLE_END)
    if (start === -1 || end < start) throw new Error(`README.md has no ${TABLE_START} block`)
    const block = `${TABLE_START}\n${summary} (${started.toISOString().slice(0, 10)}; ${opts.bytes} bytes, ${opts.iterations} run(s), ${opts.latencyIterations} latency runs, medians)\n\n${perfTable(rows)}\n`
    await writeFile(`${REPO}README.md`, readme.slice(0, start) + block + readme.slice(end))
  }
  return rows.some(r => r.status === 'fail') ? 1 : 0
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().then((code) => { process.exitCode = code }, (err) => { process.stderr.write(`${err instanceof Error ? err.stack ?? err.message : String(err)}\n`); process.exitCode = 1 })
}

/**
 * The cold-start figures of `npm run bench` (section `startup`): every client run is a fresh
 * Node process, ours and js-libp2p's taking turns (the order swapped every round), each
 * against a server of its own implementation that stays up for the whole section.
 *
 * - The test-plans perf contract: the client process dials, uploads 1 byte and downloads 1
 *   byte; the figure is the time the client itself reports (from before the dial to the last
 *   byte), the number the public libp2p perf dashboard publishes. Ours is the CLI
 *   (`ts-libp2p perf`) against our perf server, js-libp2p's the one-process perf executable
 *   interop/test-plans/js-perf.ts (test-plans' js client and server) against its own server.
 *   Also the whole process's wall time, start to exit.
 * - `ts-libp2p ping MA --count 1`, wall time from spawn to exit; js-libp2p has no command line,
 *   so its figure is a fresh process doing createLibp2p + dial + ping (js-cold.ts dial).
 * - createLibp2p() + dial in a fresh process (ts-cold.ts / js-cold.ts): from the process's
 *   start (performance.timeOrigin) to the open connection, as an application sees it.
 *
 * Our CLI turns on V8's compile cache (src/cli/compile-cache.ts); it runs here with a cache
 * of its own, filled by the discarded first round, and once more with the cache off
 * (NODE_DISABLE_COMPILE_CACHE=1: a first run after installing). The library figure and
 * js-libp2p run as shipped, without a compile cache.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import type { Side } from '../lib/config.ts'

export interface StartupPrograms {
  /** Our CLI entry (src/cli/main.ts, or main.js compiled). */
  tsCli: string
  /** bench/startup/ts-cold and js-cold, .ts or compiled. */
  tsCold: string
  jsCold: string
  /** interop/test-plans/js-perf, .ts or compiled: js-libp2p's perf contract executable. */
  jsPerf: string
}

export interface StartupRow {
  id: string
  label: string
  samples: Partial<Record<Side, number[]>>
  failures: Partial<Record<Side, string[]>>
}

interface RunResult { wallMs: number, lines: Array<Record<string, number>> }

const RUN_TIMEOUT_MS = 60_000

/** Runs one fresh process to its end; rejects on a non-zero exit, a crash or the timeout. */
async function runOnce (script: string, args: string[], env: NodeJS.ProcessEnv): Promise<RunResult> {
  const started = process.hrtime.bigint()
  const child = spawn(process.execPath, [script, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (text: string) => { stdout += text })
  child.stderr.setEncoding('utf8').on('data', (text: string) => { stderr = (stderr + text).slice(-4096) })
  const timer = setTimeout(() => { child.kill('SIGKILL') }, RUN_TIMEOUT_MS)
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => { child.once('close', (c, s) => { resolve([c, s]) }) })
  clearTimeout(timer)
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6
  if (code !== 0) throw new Error(`${script} ${args.join(' ')} exited (code ${code}, signal ${signal}): ${stderr.trim()}`)
  const lines = stdout.split('\n').filter(line => line.startsWith('{')).map(line => JSON.parse(line) as Record<string, number>)
  return { wallMs, lines }
}

interface Server { addrs: string[], stop: () => Promise<void> }

async function startServer (script: string, args: string[], env: NodeJS.ProcessEnv): Promise<Server> {
  const child = spawn(process.execPath, [script, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (text: string) => { stderr = (stderr + text).slice(-4096) })
  const exited = new Promise<void>((resolve) => { child.once('exit', () => { resolve() }) })
  const lines = createInterface({ input: child.stdout })
  const ready = await new Promise<{ addrs: string[] }>((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`${script} did not start within ${RUN_TIMEOUT_MS} ms: ${stderr}`)) }, RUN_TIMEOUT_MS)
    lines.once('line', (line) => { clearTimeout(timer); resolve(JSON.parse(line)) })
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`${script} exited (code ${code}) before it was ready: ${stderr}`)) })
  })
  return {
    addrs: ready.addrs,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      const timer = setTimeout(() => { child.kill('SIGKILL') }, 5_000)
      await exited
      clearTimeout(timer)
    }
  }
}

interface Figure {
  id: string
  label: string
  /** One measurement of a side: a number, from a fresh process. */
  run: Partial<Record<Side, () => Promise<number>>>
}

export async function measureStartup (programs: StartupPrograms, runs: number, progress: (text: string) => void): Promise<StartupRow[]> {
  const cacheDir = mkdtempSync(join(tmpdir(), 'ts-libp2p-compile-cache-'))
  // no compile cache unless a program turns it on itself, and never a shared one
  const { NODE_COMPILE_CACHE: _cache, NODE_DISABLE_COMPILE_CACHE: _off, ...base } = process.env
  const shipped: NodeJS.ProcessEnv = { ...base, TS_LIBP2P_OFFLINE: '1' }
  const cliCached: NodeJS.ProcessEnv = { ...shipped, NODE_COMPILE_CACHE: cacheDir }
  const cliUncached: NodeJS.ProcessEnv = { ...shipped, NODE_DISABLE_COMPILE_CACHE: '1' }
  const servers: Server[] = []
  try {
    const tsServer = await startServer(programs.tsCli, ['perf', '--run-server', '--server-address', '127.0.0.1:0'], shipped)
    servers.push(tsServer)
    const jsServer = await startServer(programs.jsCold, ['server'], shipped)
    servers.push(jsServer)
    const jsPerfServer = await startServer(programs.jsPerf, ['--run-server', '--server-address', '127.0.0.1:0'], shipped)
    servers.push(jsPerfServer)
    const jsPerfAddr = jsPerfServer.addrs.find(a => a.startsWith('/ip4/127.0.0.1/tcp/'))
    const tsAddr = tsServer.addrs.find(a => a.startsWith('/ip4/127.0.0.1/tcp/'))
    const jsAddr = jsServer.addrs.find(a => a.startsWith('/ip4/127.0.0.1/tcp/'))
    if (tsAddr === undefined || jsAddr === undefined || jsPerfAddr === undefined) throw new Error(`servers without a loopback TCP address: ${tsServer.addrs.join(' ')} / ${jsServer.addrs.join(' ')} / ${jsPerfServer.addrs.join(' ')}`)
    const tsHostPort = `127.0.0.1:${tsAddr.split('/')[4]}`
    const jsPerfArgs = ['--server-address', `127.0.0.1:${jsPerfAddr.split('/')[4]}`, '--upload-bytes', '1', '--download-bytes', '1']
    const tsPerf = (env: NodeJS.ProcessEnv) => async () => finalSeconds(await runOnce(programs.tsCli, ['perf', '--server-address', tsHostPort, '--upload-bytes', '1', '--download-bytes', '1'], env)) * 1000
    const tsPerfWall = (env: NodeJS.ProcessEnv) => async () => (await runOnce(programs.tsCli, ['perf', '--server-address', tsHostPort, '--upload-bytes', '1', '--download-bytes', '1'], env)).wallMs
    const jsPerf = async () => finalSeconds(await runOnce(programs.jsPerf, jsPerfArgs, shipped)) * 1000
    const jsPerfWall = async () => (await runOnce(programs.jsPerf, jsPerfArgs, shipped)).wallMs
    const jsDialWall = async () => (await runOnce(programs.jsCold, ['dial', jsAddr], shipped)).wallMs
    const figures: Figure[] = [
      { id: 'startup/perf-contract', label: 'perf contract, fresh client process: connection + 1-byte upload + 1-byte download, as the client reports it (ours: ts-libp2p perf, which compiles eagerly from its cache, warms node:crypto and collects garbage before its clock starts; js-libp2p: js-perf.ts, as test-plans runs it, none of these)', run: { ts: tsPerf(cliCached), js: jsPerf } },
      { id: 'startup/perf-contract-wall', label: 'the same perf client run, process start to exit', run: { ts: tsPerfWall(cliCached), js: jsPerfWall } },
      { id: 'startup/perf-contract-no-cache', label: 'perf contract as above, ours with its compile cache off (a first run after installing: no eager compilation; the node:crypto warm-up and the collection still run before the clock)', run: { ts: tsPerf(cliUncached), js: jsPerf } },
      { id: 'startup/cli-ping', label: '`ts-libp2p ping MA --count 1`, process start to exit (js-libp2p: a script doing createLibp2p + dial + ping)', run: { ts: async () => (await runOnce(programs.tsCli, ['ping', tsAddr, '--count', '1'], cliCached)).wallMs, js: jsDialWall } },
      { id: 'startup/create-dial', label: 'createLibp2p() + dial in a fresh process (TCP + Noise + Yamux), process start to open connection', run: { ts: async () => connectedMs(await runOnce(programs.tsCold, ['dial', tsAddr], shipped)), js: async () => connectedMs(await runOnce(programs.jsCold, ['dial', jsAddr], shipped)) } }
    ]
    const rows: StartupRow[] = []
    for (const figure of figures) {
      // the first round fills the compile cache and the OS's file cache (not in a 1-run smoke run)
      const discarded = runs > 1 ? 1 : 0
      progress(`${figure.id}: ${runs} fresh processes per side, taking turns (+${discarded} discarded)`)
      const samples: Partial<Record<Side, number[]>> = {}
      const failures: Partial<Record<Side, string[]>> = {}
      const sides = Object.keys(figure.run) as Side[]
      for (let round = 0; round < runs + discarded; round++) {
        for (const side of round % 2 === 0 ? sides : [...sides].reverse()) {
          try {
            const value = await figure.run[side]!()
            if (round >= discarded) (samples[side] ??= []).push(value)
          } catch (err) {
            (failures[side] ??= []).push(err instanceof Error ? err.message : String(err))
          }
        }
      }
      rows.push({ id: figure.id, label: figure.label, samples, failures })
    }
    return rows
  } finally {
    await Promise.all(servers.map(async server => { await server.stop() }))
    rmSync(cacheDir, { recursive: true, force: true })
  }
}

function finalSeconds (result: RunResult): number {
  const final = result.lines.find(line => (line as { type?: unknown }).type === 'final')
  if (final === undefined || typeof final.timeSeconds !== 'number') throw new Error('the perf client printed no final line')
  return final.timeSeconds
}

function connectedMs (result: RunResult): number {
  const value = result.lines[0]?.connectedMs
  if (typeof value !== 'number') throw new Error('the client printed no connectedMs')
  return value
}

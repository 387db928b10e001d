/**
 * One cell of the matrix, as test-plans' compose file runs it but without Docker: a real
 * redis-server (started once by startRedis, the key cleared before each cell), the listener
 * and the dialer as separate process groups with the environment test-plans' generator gives
 * its two containers (version, transport, is_dialer, ip, muxer, security,
 * test_timeout_seconds, redis_addr), the dialer's stdout read with test-plans' own
 * dialerTimings logic, and the listener torn down when the dialer exits (`--exit-code-from
 * dialer`, then `compose down`).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { dialerTimings } from './contract.ts'
import type { Cell } from './cells.ts'
import type { Implementation } from './implementations.ts'
import { RedisClient } from './redis.ts'

export interface CellResult {
  name: string
  dialer: string
  listener: string
  transport: string
  security?: string
  muxer?: string
  status: 'pass' | 'fail' | 'unsupported' | 'unavailable'
  handshakePlusOneRTTMillis?: number
  pingRTTMilllis?: number
  /** wall time of the cell, listener start to dialer exit */
  durationMs?: number
  /** why it failed or was not run */
  reason?: string
}

export interface RedisServer {
  addr: string
  client: RedisClient
  stop: () => Promise<void>
}

const TAIL_BYTES = 4096

/** Starts Debian's redis-server on a free loopback port, waiting for its ready line. */
export async function startRedis (timeoutMs = 20_000): Promise<RedisServer> {
  const port = await freePort()
  const dir = await mkdtemp(join(tmpdir(), 'interop-redis-'))
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--loglevel', 'notice'], { stdio: ['ignore', 'pipe', 'pipe'] })
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`redis-server not ready within ${timeoutMs} ms`)) }, timeoutMs)
    child.once('error', (err) => { clearTimeout(timer); reject(new Error(`cannot start redis-server (scripts/install-system-packages.sh installs it): ${err.message}`)) })
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`redis-server exited with ${String(code)}`)) })
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.includes('Ready to accept connections')) { clearTimeout(timer); resolve() }
    })
  }).catch(async (err) => { child.kill('SIGKILL'); await rm(dir, { recursive: true, force: true }); throw err })
  const addr = `127.0.0.1:${port}`
  const client = await RedisClient.connect(addr)
  return {
    addr,
    client,
    stop: async () => {
      client.close()
      if (child.exitCode === null) {
        const exited = new Promise(resolve => child.once('exit', resolve))
        child.kill('SIGTERM')
        await exited
      }
      await rm(dir, { recursive: true, force: true })
    }
  }
}

async function freePort (): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => { resolve(port) })
    })
  })
}

export interface RunCellOptions {
  redis: RedisServer
  /** the cell's time limit (test_timeout_seconds is this minus a margin for start-up) */
  timeoutSeconds: number
  /** `ip` for both roles (test-plans passes 0.0.0.0) */
  ip: string
  /**
   * Meet on `<testKey>_listener_multiaddr` (unified-testing's TEST_KEY convention, which both
   * our apps accept) instead of test-plans' single `listenerAddr`, so cells can run at once.
   */
  testKey?: string
  /** copy the apps' stderr here (default: dropped, only the tail is kept for failures) */
  onStderr?: (role: 'dialer' | 'listener', text: string) => void
}

export async function runCell (cell: Cell, impls: Map<string, Implementation>, opts: RunCellOptions): Promise<CellResult> {
  const base = { name: cell.name, dialer: cell.dialer, listener: cell.listener, transport: cell.transport, security: cell.security, muxer: cell.muxer }
  if (cell.unsupported !== undefined) return { ...base, status: 'unsupported', reason: cell.unsupported }
  for (const id of [cell.dialer, cell.listener]) {
    const why = impls.get(id)?.unavailable?.()
    if (why !== undefined) return { ...base, status: 'unavailable', reason: why }
  }
  await opts.redis.client.command(['DEL', opts.testKey === undefined ? 'listenerAddr' : `${opts.testKey}_listener_multiaddr`], 5000)
  const env = (version: string, isDialer: boolean): NodeJS.ProcessEnv => ({
    ...process.env,
    version,
    transport: cell.transport,
    is_dialer: String(isDialer),
    ip: opts.ip,
    redis_addr: opts.redis.addr,
    test_timeout_seconds: String(opts.timeoutSeconds),
    ...(opts.testKey !== undefined ? { TEST_KEY: opts.testKey } : {}),
    ...(cell.muxer !== undefined ? { muxer: cell.muxer } : {}),
    ...(cell.security !== undefined ? { security: cell.security } : {})
  })
  const started = performance.now()
  const listener = startApp(impls.get(cell.listener)!, env(cell.listener, false), 'listener', opts)
  const dialer = startApp(impls.get(cell.dialer)!, env(cell.dialer, true), 'dialer', opts)
  // the whole cell, start-up included, gets the time limit plus a margin for the apps' own bound
  const limitMs = (opts.timeoutSeconds + 15) * 1000
  const outcome = await Promise.race([
    dialer.exited,
    new Promise<{ code: null, signal: 'timeout' }>(resolve => { const t = setTimeout(() => { resolve({ code: null, signal: 'timeout' }) }, limitMs); void dialer.exited.then(() => { clearTimeout(t) }) })
  ])
  await Promise.all([dialer.stop(), listener.stop()])
  const durationMs = Math.round(performance.now() - started)
  if (outcome.signal === 'timeout') return { ...base, status: 'fail', durationMs, reason: `no result within ${limitMs / 1000} s; dialer: ${lastLine(dialer.stderrTail())}; listener: ${lastLine(listener.stderrTail())}` }
  try {
    const timings = dialerTimings(dialer.stdout())
    if (outcome.code !== 0) throw new Error(`dialer exited with ${String(outcome.code)}`)
    return { ...base, status: 'pass', durationMs, handshakePlusOneRTTMillis: round(timings.handshakePlusOneRTTMillis), pingRTTMilllis: round(timings.pingRTTMilllis) }
  } catch (err) {
    return { ...base, status: 'fail', durationMs, reason: `${(err as Error).message}; dialer: ${lastLine(dialer.stderrTail())}; listener: ${lastLine(listener.stderrTail())}` }
  }
}

interface App {
  exited: Promise<{ code: number | null, signal: string | null }>
  stdout: () => string
  stderrTail: () => string
  stop: () => Promise<void>
}

/** A test app in its own process group, so stopping it also stops the peer it started. */
function startApp (impl: Implementation, env: NodeJS.ProcessEnv, role: 'dialer' | 'listener', opts: RunCellOptions): App {
  const child: ChildProcess = spawn(impl.command[0], impl.command.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
  let out = ''
  let err = ''
  child.stdout!.setEncoding('utf8').on('data', (text: string) => { if (out.length < 1024 * 1024) out += text })
  child.stderr!.setEncoding('utf8').on('data', (text: string) => {
    opts.onStderr?.(role, text)
    err = (err + text).slice(-TAIL_BYTES)
  })
  const exited = new Promise<{ code: number | null, signal: string | null }>((resolve) => {
    child.once('exit', (code, signal) => { resolve({ code, signal }) })
    child.once('error', (e) => { err += `\n${e.message}`; resolve({ code: null, signal: 'spawn-error' }) })
  })
  const signalGroup = (signal: NodeJS.Signals): void => {
    try { process.kill(-child.pid!, signal) } catch { /* already gone */ }
  }
  return {
    exited,
    stdout: () => out,
    stderrTail: () => err,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) signalGroup('SIGTERM')
      const timer = setTimeout(() => { signalGroup('SIGKILL') }, 5000)
      await exited
      clearTimeout(timer)
      // the app is gone; anything left in its group (a peer it started) goes too
      signalGroup('SIGKILL')
    }
  }
}

/** The most telling lines of an app's stderr: error lines first, else the last lines. */
function lastLine (text: string): string {
  const lines = text.trim().split('\n').map(l => l.trim()).filter(l => l !== '' && !l.startsWith('at '))
  const errors = lines.filter(l => /error|fail|refused|timed? ?out|unsupported|panic/i.test(l))
  return (errors.length > 0 ? errors.slice(0, 2) : lines.slice(-2)).join(' | ').slice(0, 400) || '(no output)'
}

function round (ms: number): number {
  return Math.round(ms * 100) / 100
}
